using BenchmarkDotNet.Attributes;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;

namespace Vtpm.Benchmarks;

/// <summary>The in-process engine: one command through the whole dispatcher pipeline, no transport.</summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    Tpm2Engine _tpm = null!;
    readonly byte[] _response = new byte[4096];
    byte[] _getRandom = [], _extend = [], _hash = [];

    void Start()
    {
        _tpm = new Tpm2Engine(new MemoryStateStore());
        _tpm.Init();
        Check(_tpm.Execute(Commands.Startup(), _response, new CommandContext(0)));
    }

    // One setup per benchmark, each failing fast if its command is not implemented (instead of timing an error path).
    [GlobalSetup(Target = nameof(GetRandom32))]
    public void SetupGetRandom()
    {
        Start();
        _getRandom = Commands.GetRandom(32);
        Check(_tpm.Execute(_getRandom, _response, new CommandContext(0)));
    }

    [GlobalSetup(Target = nameof(PcrExtendSha256))]
    public void SetupExtend()
    {
        Start();
        _extend = Commands.PcrExtendSha256(16, new byte[32]);
        Check(_tpm.Execute(_extend, _response, new CommandContext(0)));
    }

    [GlobalSetup(Target = nameof(Hash512BytesSha256))]
    public void SetupHash()
    {
        Start();
        _hash = Commands.HashSha256(new byte[512]);
        Check(_tpm.Execute(_hash, _response, new CommandContext(0)));
    }

    void Check(int n)
    {
        uint rc = Commands.Rc(_response.AsSpan(0, n));
        if (rc != 0) throw new InvalidOperationException($"engine answered 0x{rc:X} during setup");
    }

    [Benchmark]
    public int GetRandom32() => _tpm.Execute(_getRandom, _response, new CommandContext(0));

    [Benchmark]
    public int PcrExtendSha256() => _tpm.Execute(_extend, _response, new CommandContext(0));

    [Benchmark]
    public int Hash512BytesSha256() => _tpm.Execute(_hash, _response, new CommandContext(0));
}
