using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using Vtpm.Wire.Tpm2.Client;

namespace Vtpm.Benchmarks;

/// <summary>
/// The command byte strings the benchmarks send (built once, reused), encoded by the typed client from the
/// generated command structures: no command is assembled by hand here.
/// </summary>
public static class Commands
{
    /// <summary>TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD (Part 2 §13.4): an ordinary index read and written with its own authValue.</summary>
    const TpmaNv AuthReadWrite = TpmaNv.AuthWrite | TpmaNv.AuthRead;

    static readonly AuthCommand[] EmptyPassword = [AuthCommand.EmptyPassword];

    public static byte[] Startup() => Tpm2Client.Encode(new StartupIn { StartupType = TpmSu.Clear });

    public static byte[] GetRandom(ushort n) => Tpm2Client.Encode(new GetRandomIn { BytesRequested = n });

    /// <summary>PCR_Extend of PCR <paramref name="pcr"/> with one SHA-256 digest, empty password session.</summary>
    public static byte[] PcrExtendSha256(uint pcr, byte[] digest)
    {
        var input = new PcrExtendIn { PcrHandle = pcr, Digests = { Count = 1 } };
        input.Digests.Digests[0].HashAlg = TpmAlgId.Sha256;
        digest.CopyTo(input.Digests.Digests[0].Digest.Sha256);
        return Tpm2Client.Encode(in input, EmptyPassword);
    }

    /// <summary>PCR_Read of the PCRs in <paramref name="pcrSelect0"/> (0–7) of the SHA-256 bank.</summary>
    public static byte[] PcrReadSha256(byte pcrSelect0)
    {
        var input = new PcrReadIn { PcrSelectionIn = { Count = 1 } };
        ref var selection = ref input.PcrSelectionIn.PcrSelections[0];
        selection.Hash = TpmAlgId.Sha256;
        selection.SizeofSelect = 3;
        selection.PcrSelect[0] = pcrSelect0;
        return Tpm2Client.Encode(in input);
    }

    /// <summary>PCR_Event of PCR <paramref name="pcr"/> with <paramref name="data"/>, empty password session.</summary>
    public static byte[] PcrEvent(uint pcr, byte[] data) =>
        Tpm2Client.Encode(new PcrEventIn { PcrHandle = pcr, EventData = Tpm2bEvent.From(data) }, EmptyPassword);

    /// <summary>TPM2_Hash of <paramref name="data"/> with SHA-256 and the NULL hierarchy.</summary>
    public static byte[] HashSha256(byte[] data) => HashSha256(data, (uint)TpmRh.Null);

    /// <summary>TPM2_Hash of <paramref name="data"/> with SHA-256 and a ticket for <paramref name="hierarchy"/>.</summary>
    public static byte[] HashSha256(byte[] data, uint hierarchy) =>
        Tpm2Client.Encode(new HashIn { Data = Tpm2bMaxBuffer.From(data), HashAlg = TpmAlgId.Sha256, Hierarchy = hierarchy });

    /// <summary>HashSequenceStart (SHA-256, empty auth).</summary>
    public static byte[] HashSequenceStartSha256() => Tpm2Client.Encode(new HashSequenceStartIn { HashAlg = TpmAlgId.Sha256 });

    public static byte[] SequenceUpdate(uint sequence, byte[] data) =>
        Tpm2Client.Encode(new SequenceUpdateIn { SequenceHandle = sequence, Buffer = Tpm2bMaxBuffer.From(data) }, EmptyPassword);

    public static byte[] SequenceComplete(uint sequence, byte[] data) =>
        Tpm2Client.Encode(new SequenceCompleteIn { SequenceHandle = sequence, Buffer = Tpm2bMaxBuffer.From(data), Hierarchy = (uint)TpmRh.Null }, EmptyPassword);

    /// <summary>NV_DefineSpace (owner auth, empty password) of an ordinary SHA-256 index with AUTHREAD | AUTHWRITE.</summary>
    public static byte[] NvDefineSpace(uint index, ushort size, byte[] auth)
    {
        var input = new NvDefineSpaceIn { AuthHandle = (uint)TpmRh.Owner, Auth = Tpm2bAuth.From(auth) };
        input.PublicInfo.NvPublic = new TpmsNvPublic { NvIndex = index, NameAlg = TpmAlgId.Sha256, Attributes = AuthReadWrite, DataSize = size };
        return Tpm2Client.Encode(in input, EmptyPassword);
    }

    /// <summary>NV_Write of <paramref name="data"/> at offset 0, authorized by the index's own password.</summary>
    public static byte[] NvWrite(uint index, byte[] data, byte[] password) =>
        Tpm2Client.Encode(new NvWriteIn { AuthHandle = index, NvIndex = index, Data = Tpm2bMaxNvBuffer.From(data) }, [AuthCommand.Password(password)]);

    /// <summary>NV_Read of <paramref name="size"/> bytes at offset 0, authorized by the index's own password.</summary>
    public static byte[] NvRead(uint index, ushort size, byte[] password) =>
        Tpm2Client.Encode(new NvReadIn { AuthHandle = index, NvIndex = index, Size = size }, [AuthCommand.Password(password)]);

    public static byte[] NvReadPublic(uint index) => Tpm2Client.Encode(new NvReadPublicIn { NvIndex = index });

    public static byte[] ReadClock() => Tpm2Client.Encode(new ReadClockIn());

    /// <summary>GetCapability(TPM_CAP_TPM_PROPERTIES, <paramref name="first"/>, <paramref name="count"/>).</summary>
    public static byte[] GetTpmProperties(TpmPt first, uint count) =>
        Tpm2Client.Encode(new GetCapabilityIn { Capability = TpmCap.TpmProperties, Property = (uint)first, PropertyCount = count });

    /// <summary>StartAuthSession: unsalted, unbound HMAC session with SHA-256 and no symmetric algorithm.</summary>
    public static byte[] StartHmacSession(byte[] nonceCaller)
    {
        var input = new StartAuthSessionIn
        {
            TpmKey = (uint)TpmRh.Null,
            Bind = (uint)TpmRh.Null,
            NonceCaller = Tpm2bNonce.From(nonceCaller),
            SessionType = TpmSe.Hmac,
            AuthHash = TpmAlgId.Sha256,
        };
        input.Symmetric.Algorithm = TpmAlgId.Null;
        return Tpm2Client.Encode(in input);
    }

    /// <summary>The marshalled parameters of a command (what cpHash covers, Part 1 §18.7).</summary>
    public static byte[] Parameters<TIn>(in TIn input) where TIn : struct, ICommandIn
    {
        var buffer = new byte[4096];
        var w = new TpmWriter(buffer);
        input.MarshalParameters(ref w);
        return w.Written.ToArray();
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

    HmacSessionCommand(byte[] command, byte[] cpHash, byte[] authValue, int nonceAt, ReadOnlySpan<byte> nonceTpm)
    {
        _command = command;
        _cpHash = cpHash;
        _authValue = authValue;
        _nonceAt = nonceAt;
        _hmacAt = nonceAt + NonceSize + 1 + 2;
        nonceTpm.CopyTo(_nonceTpm);
    }

    /// <summary>
    /// <paramref name="input"/> authorized by <paramref name="session"/>; <paramref name="names"/> are the Names of the
    /// command's handles, in order (Part 1 §16). The typed client encodes the command with a placeholder
    /// authorization of the right sizes, which <see cref="Next"/> then fills in place.
    /// </summary>
    public static HmacSessionCommand For<TIn>(uint session, in TIn input, byte[][] names, byte[] authValue, ReadOnlySpan<byte> nonceTpm)
        where TIn : struct, ICommandIn
    {
        var command = Tpm2Client.Encode(in input, [new AuthCommand(session, new byte[NonceSize], ContinueSession, new byte[32])]);
        var cp = new List<byte> { 0, 0, 0, 0 };
        BinaryPrimitives.WriteUInt32BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cp), (uint)input.CommandCode);
        foreach (var n in names) cp.AddRange(n);
        cp.AddRange(Commands.Parameters(in input));
        // header, handles, authorizationSize, sessionHandle, nonce size.
        int nonceAt = 10 + 4 * TIn.HandleCount + 4 + 4 + 2;
        return new HmacSessionCommand(command, SHA256.HashData([.. cp]), authValue, nonceAt, nonceTpm);
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
