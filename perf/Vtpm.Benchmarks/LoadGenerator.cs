using System.Diagnostics;
using System.Globalization;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Benchmarks;

/// <summary>
/// Sends the same command stream (GetRandom(32), PCR_Extend(16) alternating) over TCP, swtpm socket
/// protocol, one persistent connection, to swtpm and to vtpm in one run; prints round-trip p50/p99,
/// throughput, and the vtpm/swtpm ratio.
/// </summary>
public static class LoadGenerator
{
    sealed record Result(string Name, double[] GetRandomUs, double[] ExtendUs, double Seconds, int Commands)
    {
        public double Throughput => Commands / Seconds;
    }

    public static int Run(int commands)
    {
        var results = new List<Result>();
        int status = 0;
        foreach (var impl in new[] { TpmImplementation.Swtpm, TpmImplementation.Vtpm })
        {
            try
            {
                results.Add(Measure(new TpmTarget(impl, TpmProtocol.Swtpm), commands));
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or IOException or TimeoutException)
            {
                Console.Error.WriteLine($"{impl}: {e.Message}");
                status = 1;
            }
        }
        Console.WriteLine();
        Console.WriteLine($"{"server",-8} {"command",-12} {"p50 µs",10} {"p99 µs",10} {"cmds/s",10}");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Name,-8} {"GetRandom",-12} {P(r.GetRandomUs, 50),10:F1} {P(r.GetRandomUs, 99),10:F1} {"",10}");
            Console.WriteLine($"{r.Name,-8} {"PCR_Extend",-12} {P(r.ExtendUs, 50),10:F1} {P(r.ExtendUs, 99),10:F1} {"",10}");
            Console.WriteLine($"{r.Name,-8} {"all",-12} {"",10} {"",10} {r.Throughput,10:F0}");
        }
        if (results.Count == 2)
        {
            var (s, v) = (results[0], results[1]);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio vtpm/swtpm: GetRandom p50 {P(v.GetRandomUs, 50) / P(s.GetRandomUs, 50):F2}, PCR_Extend p50 {P(v.ExtendUs, 50) / P(s.ExtendUs, 50):F2}, throughput {v.Throughput / s.Throughput:F2}"));
        }
        return status;
    }

    static Result Measure(TpmTarget target, int commands)
    {
        using var server = TpmServer.Start(target, startupClear: true);
        using var client = server.Connect();
        var getRandom = Commands.GetRandom(32);
        var extend = Commands.PcrExtendSha256(16, new byte[32]);
        foreach (var c in new[] { getRandom, extend })
        {
            uint rc = Commands.Rc(client.Transact(c));
            if (rc != 0) throw new InvalidOperationException($"{target.Implementation} answered 0x{rc:X} to a benchmark command");
        }
        for (int i = 0; i < Math.Min(500, commands / 4); i++) client.Transact(i % 2 == 0 ? getRandom : extend); // warm-up

        var gr = new List<double>(commands / 2 + 1);
        var ex = new List<double>(commands / 2 + 1);
        var total = Stopwatch.StartNew();
        for (int i = 0; i < commands; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            client.Transact(i % 2 == 0 ? getRandom : extend);
            double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            (i % 2 == 0 ? gr : ex).Add(us);
        }
        total.Stop();
        string name = target.Implementation == TpmImplementation.Vtpm ? "vtpm" : "swtpm";
        Console.WriteLine($"{name}: {commands} commands in {total.Elapsed.TotalSeconds:F2} s");
        return new Result(name, [.. gr], [.. ex], total.Elapsed.TotalSeconds, commands);
    }

    static double P(double[] values, int percentile)
    {
        var sorted = values.Order().ToArray();
        int i = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Length - 1)];
    }
}
