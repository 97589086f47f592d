using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Sessions;

/// <summary>
/// A test-side HMAC/policy session client written from the spec formulas, independent of the engine's
/// code: KDFa (Part 1 §11.4.10.2), sessionKey (§19.6.8), cpHash/rpHash (§18.7–18.8), command and response
/// HMACs (§19.6.5–19.6.6), XOR and AES-CFB parameter encryption (§21).
/// </summary>
public sealed class TestSession
{
    public uint Handle { get; private set; }
    public TpmAlgId Hash { get; private init; }
    public byte[] SessionKey { get; private init; } = [];
    public byte[] NonceTpm { get; set; } = [];
    public byte[] NonceCaller { get; private set; } = [];
    public TpmAlgId SymAlg { get; private init; }
    public byte[] LastCpHash { get; private set; } = [];
    public byte[] LastRpHash { get; private set; } = [];
    public ushort KeyBits { get; private init; }

    int DigestSize => Hash switch { TpmAlgId.Sha1 => 20, TpmAlgId.Sha256 => 32, TpmAlgId.Sha384 => 48, _ => 64 };

    HashAlgorithmName HashName => Hash switch
    {
        TpmAlgId.Sha1 => HashAlgorithmName.SHA1,
        TpmAlgId.Sha256 => HashAlgorithmName.SHA256,
        TpmAlgId.Sha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    public static Cmd StartCommand(byte[] nonceCaller, TpmSe type = TpmSe.Hmac, TpmAlgId hash = TpmAlgId.Sha256,
        TpmAlgId symAlg = TpmAlgId.Null, ushort keyBits = 0, uint bind = (uint)TpmRh.Null)
    {
        var c = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(bind).B2(nonceCaller).B2([]).U8((byte)type).U16((ushort)symAlg);
        if (symAlg == TpmAlgId.Aes) c.U16(keyBits).U16((ushort)TpmAlgId.Cfb);
        else if (symAlg == TpmAlgId.Xor) c.U16((ushort)hash);
        return c.U16((ushort)hash);
    }

    /// <summary>TPM2_StartAuthSession, unsalted; bound to <paramref name="bind"/> (whose authValue the caller gives) unless TPM_RH_NULL.</summary>
    public static TestSession Start(EngineHost h, TpmSe type = TpmSe.Hmac, TpmAlgId hash = TpmAlgId.Sha256,
        TpmAlgId symAlg = TpmAlgId.Null, ushort keyBits = 0, uint bind = (uint)TpmRh.Null, byte[]? bindAuth = null)
    {
        var probe = new TestSession { Hash = hash };
        var nonceCaller = RandomNumberGenerator.GetBytes(probe.DigestSize);
        var rsp = h.Send(StartCommand(nonceCaller, type, hash, symAlg, keyBits, bind), responseHandle: true);
        Assert.AreEqual(TpmRc.Success, rsp.Rc);
        var p = rsp.Parameters;
        var nonceTpm = p.AsSpan(2, BinaryPrimitives.ReadUInt16BigEndian(p)).ToArray();
        Assert.AreEqual(probe.DigestSize, nonceTpm.Length);
        return new TestSession
        {
            Handle = rsp.Handle,
            Hash = hash,
            SymAlg = symAlg,
            KeyBits = symAlg == TpmAlgId.Xor ? (ushort)hash : keyBits,
            NonceTpm = nonceTpm,
            SessionKey = bind == (uint)TpmRh.Null ? [] : KdfA(hash, bindAuth ?? [], "ATH", nonceTpm, nonceCaller, probe.DigestSize * 8),
        };
    }

    public static TestSession FromParts(uint handle, byte[] nonceTpm, byte[] sessionKey) =>
        new() { Handle = handle, Hash = TpmAlgId.Sha256, SymAlg = TpmAlgId.Null, NonceTpm = nonceTpm, SessionKey = sessionKey };

    public static byte[] KdfA(TpmAlgId hash, byte[] key, string label, byte[] contextU, byte[] contextV, int bits)
    {
        var s = new TestSession { Hash = hash };
        var output = new List<byte>();
        for (uint i = 1; output.Count < bits / 8; i++)
        {
            var data = new List<byte>();
            data.AddRange(U32(i));
            data.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
            data.Add(0);
            data.AddRange(contextU);
            data.AddRange(contextV);
            data.AddRange(U32((uint)bits));
            output.AddRange(CryptographicOperations.HmacData(s.HashName, key, data.ToArray()));
        }
        return [.. output.Take(bits / 8)];
    }

    static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    public static byte[] NameOfHandle(uint handle) => U32(handle);

    public byte[] HashOf(byte[] data) => CryptographicOperations.HashData(HashName, data);

    byte[] Key(byte[] authValue) => [.. SessionKey, .. authValue];

    /// <summary>Encrypts or decrypts the first TPM2B of a parameter area in place.</summary>
    void CryptFirst(byte[] parameters, byte[] key, byte[] nonceNewer, byte[] nonceOlder, bool encrypt)
    {
        int size = BinaryPrimitives.ReadUInt16BigEndian(parameters);
        var data = parameters.AsSpan(2, size);
        if (SymAlg == TpmAlgId.Xor)
        {
            var mask = KdfA(Hash, key, "XOR", nonceNewer, nonceOlder, size * 8);
            for (int i = 0; i < size; i++) data[i] ^= mask[i];
            return;
        }
        var keyIv = KdfA(Hash, key, "CFB", nonceNewer, nonceOlder, KeyBits + 128);
        using var aes = Aes.Create();
        aes.Key = keyIv[..(KeyBits / 8)];
        var iv = keyIv[(KeyBits / 8)..];
        // CFB-128 by hand from the block cipher, so the test does not share the engine's approach.
        var feedback = iv;
        for (int off = 0; off < size; off += 16)
        {
            var stream = aes.EncryptEcb(feedback, PaddingMode.None);
            int n = Math.Min(16, size - off);
            var block = data.Slice(off, n);
            var cipher = new byte[16];
            for (int i = 0; i < n; i++)
            {
                byte c = encrypt ? (byte)(block[i] ^ stream[i]) : block[i];
                if (!encrypt) block[i] ^= stream[i]; else block[i] = c;
                cipher[i] = c;
            }
            feedback = cipher;
        }
    }

    /// <summary>
    /// Builds a command with this session as its only session. <paramref name="names"/> are the Names of
    /// the handles; <paramref name="authValue"/> is added to the HMAC key (empty for a bound entity or a
    /// session that authorizes nothing).
    /// </summary>
    public byte[] Command(TpmCc cc, uint[] handles, byte[][] names, byte[] parameters, TpmaSessionBits attributes, byte[]? authValue = null, bool corruptHmac = false, int nonceLength = 0)
    {
        authValue ??= [];
        NonceCaller = RandomNumberGenerator.GetBytes(nonceLength > 0 ? nonceLength : DigestSize);
        parameters = (byte[])parameters.Clone();
        if ((attributes & TpmaSessionBits.Decrypt) != 0) CryptFirst(parameters, Key(authValue), NonceCaller, NonceTpm, encrypt: true);
        var cp = new List<byte>(U32((uint)cc));
        foreach (var n in names) cp.AddRange(n);
        cp.AddRange(parameters);
        var cpHash = CryptographicOperations.HashData(HashName, [.. cp]);
        LastCpHash = cpHash;
        var hmac = CryptographicOperations.HmacData(HashName, Key(authValue), (byte[])[.. cpHash, .. NonceCaller, .. NonceTpm, (byte)attributes]);
        if (corruptHmac) hmac[0] ^= 1;
        var area = new List<byte>(U32(Handle));
        area.AddRange(U16((ushort)NonceCaller.Length));
        area.AddRange(NonceCaller);
        area.Add((byte)attributes);
        area.AddRange(U16((ushort)hmac.Length));
        area.AddRange(hmac);
        var c = Cmd.Of(cc);
        foreach (var handle in handles) c.Handle(handle);
        return c.RawSessions([.. area]).Bytes(parameters).Build();
    }

    static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return b;
    }

    /// <summary>
    /// Checks the response session (attributes echoed, response HMAC over rpHash with the new nonceTPM),
    /// rolls <see cref="NonceTpm"/>, decrypts the first response parameter if asked, and returns the parameters.
    /// </summary>
    public byte[] Response(Rsp rsp, TpmCc cc, TpmaSessionBits attributes, byte[]? authValue = null, bool hasHandle = false)
    {
        authValue ??= [];
        Assert.AreEqual(TpmRc.Success, rsp.Rc);
        Assert.AreEqual((ushort)TpmSt.Sessions, rsp.Tag);
        var bytes = rsp.Bytes;
        int off = 10 + (hasHandle ? 4 : 0);
        int paramSize = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(off));
        var parameters = bytes.AsSpan(off + 4, paramSize).ToArray();
        int s = off + 4 + paramSize;
        int nonceLength = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(s));
        var newNonce = bytes.AsSpan(s + 2, nonceLength).ToArray();
        byte rspAttributes = bytes[s + 2 + nonceLength];
        int hmacLength = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(s + 3 + nonceLength));
        var hmac = bytes.AsSpan(s + 5 + nonceLength, hmacLength).ToArray();
        Assert.AreEqual(bytes.Length, s + 5 + nonceLength + hmacLength, "response ends after the session");
        // Attributes are echoed; an audit session is reported as the exclusive audit session.
        var expectedAttributes = (attributes & TpmaSessionBits.Audit) != 0 ? attributes | TpmaSessionBits.AuditExclusive : attributes;
        Assert.AreEqual((byte)expectedAttributes, rspAttributes);
        Assert.AreEqual(DigestSize, newNonce.Length);
        CollectionAssert.AreNotEqual(NonceTpm, newNonce, "nonceTPM rolls");
        var rpHash = CryptographicOperations.HashData(HashName, [.. U32(0), .. U32((uint)cc), .. parameters]);
        LastRpHash = rpHash;
        var expected = CryptographicOperations.HmacData(HashName, Key(authValue), (byte[])[.. rpHash, .. newNonce, .. NonceCaller, rspAttributes]);
        CollectionAssert.AreEqual(expected, hmac, "response HMAC");
        NonceTpm = newNonce;
        if ((attributes & TpmaSessionBits.Encrypt) != 0) CryptFirst(parameters, Key(authValue), NonceTpm, NonceCaller, encrypt: false);
        return parameters;
    }
}

/// <summary>TPMA_SESSION for the test client (kept separate from the engine's enum on purpose).</summary>
[Flags]
public enum TpmaSessionBits : byte
{
    None = 0,
    ContinueSession = 0x01,
    AuditExclusive = 0x02,
    AuditReset = 0x04,
    Decrypt = 0x20,
    Encrypt = 0x40,
    Audit = 0x80,
}
