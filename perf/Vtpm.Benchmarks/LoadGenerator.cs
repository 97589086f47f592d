using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Benchmarks;

/// <summary>
/// <c>./build.sh bench --compare [N]</c>: the same command stream (GetRandom(32), PCR_Extend(16) alternating),
/// swtpm socket protocol, one persistent connection per server, to swtpm and vtpm over TCP loopback and over a
/// Unix socket, all four servers in one run. Each connection is warmed up first (at least
/// <see cref="WarmUp"/>, so vtpm's JIT has reached its optimized code, as in any long-lived instance), then
/// the N commands per server are sent in interleaved blocks of <see cref="Block"/> commands, the servers taking
/// turns, so background load on a shared machine falls on every server alike. Throughput is commands divided by
/// the time spent in that server's blocks. A row "bad code" times a command both TPMs reject at its header
/// (the transport and framing alone, no TPM work). Prints round-trip p50/p99 and throughput per server and
/// transport, then the vtpm/swtpm ratios per transport and whether vtpm is at least as fast as swtpm.
/// </summary>
public static class LoadGenerator
{
    /// <summary>Minimum warm-up per connection (and at least 2000 commands).</summary>
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1.5);

    /// <summary>Commands per turn: long enough to stream, short enough that a burst of background load is shared.</summary>
    const int Block = 250;

    /// <summary>A command whose code no TPM implements (TPM_RC_COMMAND_CODE, Part 2 §6.6): what remains is the transport.</summary>
    static readonly byte[] BadCommandCode = [0x80, 0x01, 0, 0, 0, 10, 0x00, 0x00, 0x00, 0x01];

    const uint TpmRcCommandCode = 0x143;

    sealed class Target(string server, string transport, Func<Socket> connect) : IDisposable
    {
        readonly byte[] _response = new byte[4096];
        Socket? _socket;

        public string Server { get; } = server;
        public string Transport { get; } = transport;
        public List<double> GetRandomUs { get; } = [];
        public List<double> ExtendUs { get; } = [];
        public List<double> TransportUs { get; } = [];
        public double Seconds { get; set; }
        public double Throughput => (GetRandomUs.Count + ExtendUs.Count) / Seconds;

        public void Connect() => _socket = connect();

        /// <summary>One round trip; the response code must be the expected one (a benchmark of unexpected errors measures nothing).</summary>
        public void Transact(byte[] command, uint expectedRc = 0)
        {
            var s = _socket!;
            s.Send(command);
            int got = 0;
            int size = 10;
            while (got < size)
            {
                int r = s.Receive(_response.AsSpan(got));
                if (r == 0) throw new IOException($"{Server} over {Transport} closed the connection");
                got += r;
                if (got >= 10) size = (int)BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(2));
                if (size < 10 || size > _response.Length) throw new InvalidOperationException($"{Server} over {Transport}: response size {size}");
            }
            uint rc = Commands.Rc(_response);
            if (rc != expectedRc) throw new InvalidOperationException($"{Server} over {Transport} answered 0x{rc:X} to a benchmark command");
        }

        public void Dispose() => _socket?.Dispose();
    }

    public static int Run(int commands)
    {
        string work = Directory.CreateTempSubdirectory("vtpm-compare-").FullName;
        var processes = new List<IDisposable>();
        var targets = new List<Target>();
        try
        {
            foreach (var impl in new[] { TpmImplementation.Swtpm, TpmImplementation.Vtpm })
            {
                string name = impl == TpmImplementation.Vtpm ? "vtpm" : "swtpm";
                var tcp = TpmServer.Start(new TpmTarget(impl, TpmProtocol.Swtpm), startupClear: true);
                processes.Add(tcp);
                targets.Add(new Target(name, "TCP", () => ConnectTcp(tcp.Port)));
                var unix = UnixServer.Start(impl == TpmImplementation.Vtpm ? Executables.Vtpm() : Executables.Swtpm(), work, name);
                processes.Add(unix);
                targets.Add(new Target(name, "Unix", () => ConnectUnix(unix.Path)));
            }
            Measure(targets, commands);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or IOException or TimeoutException or SocketException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        finally
        {
            foreach (var t in targets) t.Dispose();
            foreach (var p in processes) p.Dispose();
            Directory.Delete(work, recursive: true);
        }
        Report(targets, commands);
        return 0;
    }

    static void Measure(List<Target> targets, int commands)
    {
        var getRandom = Commands.GetRandom(32);
        var extend = Commands.PcrExtendSha256(16, new byte[32]);
        foreach (var t in targets)
        {
            t.Connect();
            var warm = Stopwatch.StartNew();
            for (int i = 0; i < 2000 || warm.Elapsed < WarmUp; i++) t.Transact(i % 2 == 0 ? getRandom : extend);
        }
        int rounds = Math.Max(1, commands / Block);
        for (int round = 0; round < rounds; round++)
        {
            // Rotate the order so no server always runs right after another.
            for (int k = 0; k < targets.Count; k++)
            {
                var t = targets[(round + k) % targets.Count];
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < Block; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    t.Transact(i % 2 == 0 ? getRandom : extend);
                    double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    (i % 2 == 0 ? t.GetRandomUs : t.ExtendUs).Add(us);
                }
                t.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
                // Transport only: a command both TPMs reject at its header, timed apart from the throughput.
                for (int i = 0; i < Block / 5; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    t.Transact(BadCommandCode, TpmRcCommandCode);
                    t.TransportUs.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }
        }
    }

    static void Report(List<Target> targets, int commands)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"{targets[0].GetRandomUs.Count + targets[0].ExtendUs.Count} commands per server (asked {commands}), GetRandom(32) / PCR_Extend alternating, servers taking turns every {Block} commands, one connection each"));
        Console.WriteLine($"{"server",-8} {"transport",-10} {"command",-12} {"p50 µs",9} {"p99 µs",9} {"cmds/s",9}");
        foreach (var r in targets)
        {
            Console.WriteLine(string.Create(inv, $"{r.Server,-8} {r.Transport,-10} {"GetRandom",-12} {P(r.GetRandomUs, 50),9:F1} {P(r.GetRandomUs, 99),9:F1} {"",9}"));
            Console.WriteLine(string.Create(inv, $"{r.Server,-8} {r.Transport,-10} {"PCR_Extend",-12} {P(r.ExtendUs, 50),9:F1} {P(r.ExtendUs, 99),9:F1} {"",9}"));
            Console.WriteLine(string.Create(inv, $"{r.Server,-8} {r.Transport,-10} {"all",-12} {"",9} {"",9} {r.Throughput,9:F0}"));
            Console.WriteLine(string.Create(inv, $"{r.Server,-8} {r.Transport,-10} {"bad code",-12} {P(r.TransportUs, 50),9:F1} {P(r.TransportUs, 99),9:F1} {"",9}"));
        }
        Console.WriteLine();
        Console.WriteLine("ratio vtpm/swtpm (p50: below 1 = vtpm faster; throughput: above 1 = vtpm faster)");
        foreach (var transport in new[] { "TCP", "Unix" })
        {
            var s = targets.First(t => t.Server == "swtpm" && t.Transport == transport);
            var v = targets.First(t => t.Server == "vtpm" && t.Transport == transport);
            double gr = P(v.GetRandomUs, 50) / P(s.GetRandomUs, 50);
            double ex = P(v.ExtendUs, 50) / P(s.ExtendUs, 50);
            double tp = v.Throughput / s.Throughput;
            double bare = P(v.TransportUs, 50) / P(s.TransportUs, 50);
            bool asFast = gr <= 1 && ex <= 1 && tp >= 1;
            Console.WriteLine(string.Create(inv,
                $"{transport,-5} GetRandom p50 {gr:F2}, PCR_Extend p50 {ex:F2}, throughput {tp:F2}: vtpm {(asFast ? "is" : "is NOT")} at least as fast as swtpm (transport only, bad-code p50 {bare:F2})"));
        }
    }

    static Socket ConnectTcp(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    static Socket ConnectUnix(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        int i = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Length - 1)];
    }

    /// <summary>swtpm or vtpm with its data channel on a Unix socket (no control channel), ready at once (startup-clear).</summary>
    sealed class UnixServer : IDisposable
    {
        readonly Process _process;

        public string Path { get; }

        UnixServer(Process process, string path)
        {
            _process = process;
            Path = path;
        }

        public static UnixServer Start(string exe, string work, string name)
        {
            string state = Directory.CreateDirectory(System.IO.Path.Combine(work, name + "-state")).FullName;
            string path = System.IO.Path.Combine(work, name + ".sock");
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "socket", "--tpm2", "--tpmstate", $"dir={state}", "--server", $"type=unixio,path={path}", "--flags", "not-need-init,startup-clear" })
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi) ?? throw new InvalidOperationException($"{exe} did not start");
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{name} unix] {e.Data}"); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var server = new UnixServer(p, path);
            var sw = Stopwatch.StartNew();
            while (true)
            {
                if (p.HasExited)
                {
                    server.Dispose();
                    throw new InvalidOperationException($"{name} (Unix socket) exited with {p.ExitCode}");
                }
                try
                {
                    using var probe = ConnectUnix(path);
                    return server;
                }
                catch (SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(30))
                {
                    Thread.Sleep(50);
                }
                catch (SocketException)
                {
                    server.Dispose();
                    throw new TimeoutException($"{name} never listened on {path}");
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
