using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Benchmarks;

/// <summary>
/// The in-process engine: one command through the whole dispatcher pipeline, no transport. With the
/// memory diagnoser, "Allocated" is the managed allocation per command (the engine's hot paths aim at 0).
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    const uint NvIndex = 0x01500020;
    const uint Sequence = 0x80000000;   // TRANSIENT_FIRST: the slot a sequence gets when none is loaded
    static readonly byte[] NvPassword = "benchmark"u8.ToArray();

    Tpm2Engine _tpm = null!;
    readonly byte[] _response = new byte[4096];
    byte[] _getRandom = [], _extend = [], _hash = [], _hashTicket = [], _pcrRead = [], _pcrEvent = [];
    byte[] _sequenceStart = [], _sequenceUpdate = [], _sequenceComplete = [];
    byte[] _nvWrite = [], _nvRead = [], _readClock = [], _fixedProperties = [];
    HmacSessionCommand _hmacExtend = null!, _hmacNvRead = null!;

    void Start()
    {
        _tpm = new Tpm2Engine(new MemoryStateStore());
        _tpm.Init();
        Check(Send(Commands.Startup()));
    }

    int Send(byte[] command) => _tpm.Execute(command, _response, new CommandContext(0));

    // One setup per benchmark, each failing fast if its command is not implemented (instead of timing an error path).
    [GlobalSetup(Target = nameof(GetRandom32))]
    public void SetupGetRandom()
    {
        Start();
        _getRandom = Commands.GetRandom(32);
        Check(Send(_getRandom));
    }

    [GlobalSetup(Target = nameof(PcrExtendSha256))]
    public void SetupExtend()
    {
        Start();
        _extend = Commands.PcrExtendSha256(16, new byte[32]);
        Check(Send(_extend));
    }

    [GlobalSetup(Target = nameof(PcrRead8Sha256))]
    public void SetupPcrRead()
    {
        Start();
        _pcrRead = Commands.PcrReadSha256(0xFF);
        Check(Send(_pcrRead));
    }

    [GlobalSetup(Target = nameof(PcrEvent64Bytes))]
    public void SetupPcrEvent()
    {
        Start();
        _pcrEvent = Commands.PcrEvent(16, new byte[64]);
        Check(Send(_pcrEvent));
    }

    [GlobalSetup(Target = nameof(Hash512BytesSha256))]
    public void SetupHash()
    {
        Start();
        _hash = Commands.HashSha256(new byte[512]);
        Check(Send(_hash));
    }

    [GlobalSetup(Target = nameof(Hash512BytesOwnerTicket))]
    public void SetupHashTicket()
    {
        Start();
        _hashTicket = Commands.HashSha256(new byte[512], (uint)TpmRh.Owner);
        Check(Send(_hashTicket));
    }

    [GlobalSetup(Target = nameof(HashSequenceStartUpdateComplete))]
    public void SetupSequence()
    {
        Start();
        _sequenceStart = Commands.HashSequenceStartSha256();
        _sequenceUpdate = Commands.SequenceUpdate(Sequence, new byte[256]);
        _sequenceComplete = Commands.SequenceComplete(Sequence, new byte[16]);
        HashSequenceStartUpdateComplete();
        Check(_response.Length);
    }

    void DefineNvIndex()
    {
        Start();
        Check(Send(Commands.NvDefineSpace(NvIndex, 32, NvPassword)));
        _nvWrite = Commands.NvWrite(NvIndex, new byte[32], NvPassword);
        // The first DA-protected authorization after Startup may answer TPM_RC_RETRY (as swtpm does).
        if (Commands.Rc(_response.AsSpan(0, Send(_nvWrite))) != 0) Check(Send(_nvWrite));
    }

    [GlobalSetup(Target = nameof(NvWrite32Bytes))]
    public void SetupNvWrite()
    {
        DefineNvIndex();
        Check(Send(_nvWrite));
    }

    [GlobalSetup(Target = nameof(NvRead32Bytes))]
    public void SetupNvRead()
    {
        DefineNvIndex();
        _nvRead = Commands.NvRead(NvIndex, 32, NvPassword);
        Check(Send(_nvRead));
    }

    [GlobalSetup(Target = nameof(ReadClock))]
    public void SetupReadClock()
    {
        Start();
        _readClock = Commands.ReadClock();
        Check(Send(_readClock));
    }

    [GlobalSetup(Target = nameof(GetCapabilityFixedProperties))]
    public void SetupGetCapability()
    {
        Start();
        _fixedProperties = Commands.GetTpmProperties(TpmPt.FamilyIndicator, 64);
        Check(Send(_fixedProperties));
    }

    (uint Handle, byte[] NonceTpm) StartHmacSession()
    {
        int n = Send(Commands.StartHmacSession(new byte[32]));
        Check(n);
        uint handle = BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(10));
        return (handle, _response.AsSpan(16, 32).ToArray());
    }

    [GlobalSetup(Target = nameof(PcrExtendHmacSession))]
    public void SetupHmacExtend()
    {
        Start();
        var (session, nonceTpm) = StartHmacSession();
        var extend = new PcrExtendIn { PcrHandle = 16, Digests = { Count = 1 } };
        extend.Digests.Digests[0].HashAlg = TpmAlgId.Sha256;
        _hmacExtend = HmacSessionCommand.For(session, in extend, [[0, 0, 0, 16]], [], nonceTpm);
        Check(PcrExtendHmacSession());
    }

    [GlobalSetup(Target = nameof(NvReadHmacSession))]
    public void SetupHmacNvRead()
    {
        DefineNvIndex();
        int n = Send(Commands.NvReadPublic(NvIndex));
        Check(n);
        // NV_ReadPublic: TPM2B_NV_PUBLIC nvPublic, TPM2B_NAME nvName.
        int publicSize = BinaryPrimitives.ReadUInt16BigEndian(_response.AsSpan(10));
        int nameAt = 12 + publicSize;
        var name = _response.AsSpan(nameAt + 2, BinaryPrimitives.ReadUInt16BigEndian(_response.AsSpan(nameAt))).ToArray();
        var (session, nonceTpm) = StartHmacSession();
        _hmacNvRead = HmacSessionCommand.For(session, new NvReadIn { AuthHandle = NvIndex, NvIndex = NvIndex, Size = 32 }, [name, name], NvPassword, nonceTpm);
        Check(NvReadHmacSession());
    }

    void Check(int n)
    {
        uint rc = Commands.Rc(_response.AsSpan(0, n));
        if (rc != 0) throw new InvalidOperationException($"engine answered 0x{rc:X} during setup");
    }

    [Benchmark]
    public int GetRandom32() => Send(_getRandom);

    [Benchmark]
    public int PcrExtendSha256() => Send(_extend);

    [Benchmark]
    public int PcrRead8Sha256() => Send(_pcrRead);

    [Benchmark]
    public int PcrEvent64Bytes() => Send(_pcrEvent);

    [Benchmark]
    public int Hash512BytesSha256() => Send(_hash);

    [Benchmark]
    public int Hash512BytesOwnerTicket() => Send(_hashTicket);

    /// <summary>Three commands: HashSequenceStart, SequenceUpdate (256 bytes), SequenceComplete (16 bytes).</summary>
    [Benchmark]
    public int HashSequenceStartUpdateComplete()
    {
        int n = Send(_sequenceStart);
        n += Send(_sequenceUpdate);
        return n + Send(_sequenceComplete);
    }

    [Benchmark]
    public int NvWrite32Bytes() => Send(_nvWrite);

    [Benchmark]
    public int NvRead32Bytes() => Send(_nvRead);

    [Benchmark]
    public int ReadClock() => Send(_readClock);

    [Benchmark]
    public int GetCapabilityFixedProperties() => Send(_fixedProperties);

    /// <summary>PCR_Extend authorized by an HMAC session; includes the client's HMAC (one HMAC-SHA256 one-shot).</summary>
    [Benchmark]
    public int PcrExtendHmacSession()
    {
        int n = Send(_hmacExtend.Next());
        _hmacExtend.Accept(_response);
        return n;
    }

    /// <summary>NV_Read authorized by an HMAC session with the index's authValue; includes the client's HMAC.</summary>
    [Benchmark]
    public int NvReadHmacSession()
    {
        int n = Send(_hmacNvRead.Next());
        _hmacNvRead.Accept(_response);
        return n;
    }
}
