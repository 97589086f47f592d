using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Benchmarks;

/// <summary>
/// ./build.sh bench [options]
///   (no options)      BenchmarkDotNet engine benchmarks (GetRandom, PCR_Extend, Hash), default job
///   --quick           the same with a short in-process job (seconds, not minutes)
///   --compare [N]     load generator: N round trips each (default 20000; 4000 with --quick) to swtpm and vtpm over TCP
///                     loopback and Unix sockets, with the vtpm/swtpm ratios per transport
///   --ring [N]        GetRandom through the tpmif ring vs TCP loopback vs Unix socket vs swtpm, plus idle ring CPU
/// Anything else is passed to BenchmarkDotNet (e.g. --filter *Hash*).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        bool quick = args.Contains("--quick");
        int ringAt = Array.IndexOf(args, "--ring");
        if (ringAt >= 0)
        {
            int n = quick ? 3000 : 20000;
            if (ringAt + 1 < args.Length && int.TryParse(args[ringAt + 1], out int given)) n = given;
            return RingBenchmark.Run(n);
        }
        int compareAt = Array.IndexOf(args, "--compare");
        if (compareAt >= 0)
        {
            int n = quick ? 4000 : 20000;
            if (compareAt + 1 < args.Length && int.TryParse(args[compareAt + 1], out int given)) n = given;
            return LoadGenerator.Run(n);
        }
        var rest = args.Where(a => a != "--quick").ToArray();
        // Results go under the repository's ignored .vtpm/ directory, not into the working tree.
        IConfig config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(Executables.RepoRoot, ".vtpm", "bench"));
        if (quick)
        {
            config = config.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("quick"));
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.Length == 0 ? ["--filter", "*"] : rest, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
