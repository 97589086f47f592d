using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Benchmarks;

/// <summary>The command byte strings the benchmarks send (built once, reused).</summary>
public static class Commands
{
    /// <summary>TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD (Part 2 §13.4): an ordinary index read and written with its own authValue.</summary>
    const uint AuthReadWrite = (1u << 2) | (1u << 18);

    public static byte[] Startup() => Frame(TpmCc.Startup, w => w.AddRange([0, 0]));

    public static byte[] GetRandom(ushort n) => Frame(TpmCc.GetRandom, w => w.AddRange([(byte)(n >> 8), (byte)n]));

    /// <summary>PCR_Extend of PCR <paramref name="pcr"/> with one SHA-256 digest, empty password session.</summary>
    public static byte[] PcrExtendSha256(uint pcr, byte[] digest) =>
        WithPassword(TpmCc.PcrExtend, [pcr], [], w =>
        {
            AddU32(w, 1);
            AddU16(w, (ushort)TpmAlgId.Sha256);
            w.AddRange(digest);
        });

    /// <summary>PCR_Read of PCRs 0–7 of the SHA-256 bank (one TPML_DIGEST of 8 digests back).</summary>
    public static byte[] PcrReadSha256(byte pcrSelect0) => Frame(TpmCc.PcrRead, w =>
    {
        AddU32(w, 1);
        AddU16(w, (ushort)TpmAlgId.Sha256);
        w.AddRange([3, pcrSelect0, 0, 0]);
    });

    /// <summary>PCR_Event of PCR <paramref name="pcr"/> with <paramref name="data"/>, empty password session.</summary>
    public static byte[] PcrEvent(uint pcr, byte[] data) => WithPassword(TpmCc.PcrEvent, [pcr], [], w => AddSized(w, data));

    /// <summary>TPM2_Hash of <paramref name="data"/> with SHA-256 and the NULL hierarchy.</summary>
    public static byte[] HashSha256(byte[] data) => HashSha256(data, (uint)TpmRh.Null);

    /// <summary>TPM2_Hash of <paramref name="data"/> with SHA-256 and a ticket for <paramref name="hierarchy"/>.</summary>
    public static byte[] HashSha256(byte[] data, uint hierarchy) => Frame(TpmCc.Hash, w =>
    {
        AddSized(w, data);
        AddU16(w, (ushort)TpmAlgId.Sha256);
        AddU32(w, hierarchy);
    });

    /// <summary>HashSequenceStart (SHA-256, empty auth).</summary>
    public static byte[] HashSequenceStartSha256() => Frame(TpmCc.HashSequenceStart, w =>
    {
        AddU16(w, 0);
        AddU16(w, (ushort)TpmAlgId.Sha256);
    });

    public static byte[] SequenceUpdate(uint sequence, byte[] data) => WithPassword(TpmCc.SequenceUpdate, [sequence], [], w => AddSized(w, data));

    public static byte[] SequenceComplete(uint sequence, byte[] data) =>
        WithPassword(TpmCc.SequenceComplete, [sequence], [], w =>
        {
            AddSized(w, data);
            AddU32(w, (uint)TpmRh.Null);
        });

    /// <summary>NV_DefineSpace (owner auth, empty password) of an ordinary SHA-256 index with AUTHREAD | AUTHWRITE.</summary>
    public static byte[] NvDefineSpace(uint index, ushort size, byte[] auth) =>
        WithPassword(TpmCc.NvDefineSpace, [(uint)TpmRh.Owner], [], w =>
        {
            AddSized(w, auth);
            var pub = new List<byte>();
            AddU32(pub, index);
            AddU16(pub, (ushort)TpmAlgId.Sha256);
            AddU32(pub, AuthReadWrite);
            AddU16(pub, 0);
            AddU16(pub, size);
            AddSized(w, [.. pub]);
        });

    /// <summary>NV_Write of <paramref name="data"/> at offset 0, authorized by the index's own password.</summary>
    public static byte[] NvWrite(uint index, byte[] data, byte[] password) =>
        WithPassword(TpmCc.NvWrite, [index, index], password, w =>
        {
            AddSized(w, data);
            AddU16(w, 0);
        });

    /// <summary>NV_Read of <paramref name="size"/> bytes at offset 0, authorized by the index's own password.</summary>
    public static byte[] NvRead(uint index, ushort size, byte[] password) =>
        WithPassword(TpmCc.NvRead, [index, index], password, w =>
        {
            AddU16(w, size);
            AddU16(w, 0);
        });

    public static byte[] NvReadPublic(uint index) => Frame(TpmCc.NvReadPublic, w => AddU32(w, index));

    public static byte[] ReadClock() => Frame(TpmCc.ReadClock, _ => { });

    /// <summary>GetCapability(TPM_CAP_TPM_PROPERTIES, <paramref name="first"/>, <paramref name="count"/>).</summary>
    public static byte[] GetTpmProperties(TpmPt first, uint count) => Frame(TpmCc.GetCapability, w =>
    {
        AddU32(w, (uint)TpmCap.TpmProperties);
        AddU32(w, (uint)first);
        AddU32(w, count);
    });

    /// <summary>StartAuthSession: unsalted, unbound HMAC session with SHA-256 and no symmetric algorithm.</summary>
    public static byte[] StartHmacSession(byte[] nonceCaller) =>
        Frame(TpmCc.StartAuthSession, w =>
        {
            AddU32(w, (uint)TpmRh.Null);
            AddU32(w, (uint)TpmRh.Null);
            AddSized(w, nonceCaller);
            AddU16(w, 0);
            w.Add((byte)TpmSe.Hmac);
            AddU16(w, (ushort)TpmAlgId.Null);
            AddU16(w, (ushort)TpmAlgId.Sha256);
        });

    static byte[] Frame(TpmCc cc, Action<List<byte>> parameters)
    {
        var b = new List<byte> { 0x80, 0x01, 0, 0, 0, 0 };
        AddU32(b, (uint)cc);
        parameters(b);
        return Finish(b);
    }

    /// <summary>A command with one password session (TPM_RS_PW, continueSession) carrying <paramref name="password"/>.</summary>
    static byte[] WithPassword(TpmCc cc, uint[] handles, byte[] password, Action<List<byte>> parameters)
    {
        var b = new List<byte> { 0x80, 0x02, 0, 0, 0, 0 };
        AddU32(b, (uint)cc);
        foreach (var h in handles) AddU32(b, h);
        AddU32(b, (uint)(9 + password.Length)); // authorizationSize
        AddU32(b, (uint)TpmRh.Pw);
        b.AddRange([0, 0, 1]);                  // empty nonce, continueSession
        AddSized(b, password);
        parameters(b);
        return Finish(b);
    }

    static void AddU16(List<byte> b, ushort v) => b.AddRange([(byte)(v >> 8), (byte)v]);

    static void AddU32(List<byte> b, uint v) => b.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);

    static void AddSized(List<byte> b, byte[] data)
    {
        AddU16(b, (ushort)data.Length);
        b.AddRange(data);
    }

    static byte[] Finish(List<byte> b)
    {
        var a = b.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(2), (uint)a.Length);
        return a;
    }

    public static uint Rc(ReadOnlySpan<byte> response) => BinaryPrimitives.ReadUInt32BigEndian(response[6..]);
}

/// <summary>
/// A command authorized by an unbound, unsalted SHA-256 HMAC session (sessionKey empty), kept in one
/// buffer: before each send the client part of Part 1 §19.6.5 is redone in place — a new nonceCaller and
/// HMAC(authValue, cpHash || nonceCaller || nonceTPM || attributes) — with span one-shots, so the benchmark
/// adds no allocation of its own. cpHash does not change (same handles and parameters) and is computed once.
/// </summary>
public sealed class HmacSessionCommand
{
    const int NonceSize = 32;
    const byte ContinueSession = 0x01;

    readonly byte[] _command;
    readonly byte[] _cpHash;
    readonly byte[] _authValue;
    readonly int _nonceAt, _hmacAt;
    readonly byte[] _nonceTpm = new byte[NonceSize];
    ulong _counter;

    /// <summary><paramref name="names"/> are the Names of the command's handles, in order (Part 1 §16).</summary>
    public HmacSessionCommand(uint session, TpmCc cc, uint[] handles, byte[][] names, byte[] parameters, byte[] authValue, ReadOnlySpan<byte> nonceTpm)
    {
        _authValue = authValue;
        nonceTpm.CopyTo(_nonceTpm);
        var cp = new List<byte>();
        cp.AddRange(BigEndian((uint)cc));
        foreach (var n in names) cp.AddRange(n);
        cp.AddRange(parameters);
        _cpHash = SHA256.HashData([.. cp]);

        var b = new List<byte> { 0x80, 0x02, 0, 0, 0, 0 };
        b.AddRange(BigEndian((uint)cc));
        foreach (var h in handles) b.AddRange(BigEndian(h));
        b.AddRange(BigEndian(4 + 2 + NonceSize + 1 + 2 + 32));
        b.AddRange(BigEndian(session));
        b.AddRange([0, NonceSize]);
        _nonceAt = b.Count;
        b.AddRange(new byte[NonceSize]);
        b.Add(ContinueSession);
        b.AddRange([0, 32]);
        _hmacAt = b.Count;
        b.AddRange(new byte[32]);
        b.AddRange(parameters);
        _command = [.. b];
        BinaryPrimitives.WriteUInt32BigEndian(_command.AsSpan(2), (uint)_command.Length);
    }

    static byte[] BigEndian(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    /// <summary>The command for the session's current nonceTPM.</summary>
    public byte[] Next()
    {
        var nonceCaller = _command.AsSpan(_nonceAt, NonceSize);
        BinaryPrimitives.WriteUInt64BigEndian(nonceCaller, ++_counter);
        Span<byte> message = stackalloc byte[32 + NonceSize + NonceSize + 1];
        _cpHash.CopyTo(message);
        nonceCaller.CopyTo(message[32..]);
        _nonceTpm.CopyTo(message[(32 + NonceSize)..]);
        message[^1] = ContinueSession;
        HMACSHA256.HashData(_authValue, message, _command.AsSpan(_hmacAt, 32));
        return _command;
    }

    /// <summary>Takes the new nonceTPM from a successful response (tag SESSIONS, no response handle).</summary>
    public void Accept(ReadOnlySpan<byte> response)
    {
        int parameterSize = (int)BinaryPrimitives.ReadUInt32BigEndian(response[10..]);
        int session = 14 + parameterSize;
        response.Slice(session + 2, NonceSize).CopyTo(_nonceTpm);
    }
}
