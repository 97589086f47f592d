using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vtpm.Tests.Support;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

/// <summary>
/// A listening address belongs to one process (issue 15): a second vtpm or tpmfront given a TCP port or Unix
/// socket path a live server holds exits non-zero at start, naming the address, before it touches any state —
/// and the first server keeps every connection. Restarts after a clean stop or a SIGKILL bind again at once.
/// Real processes on real sockets throughout.
/// </summary>
[TestClass]
public sealed class ExclusiveAddressTests
{
    const uint CtrlGetCapability = 0x01;
    const uint MssimPowerOn = 1, MssimNvOn = 11;
    static readonly byte[] GetRandom8 = Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    string _dir = "";
    readonly List<ChildProcess> _children = [];

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-excl-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var c in _children) c.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [TestMethod]
    public void SecondVtpmOnTheDataPortOfALiveOneExitsAndTheFirstServesEveryConnection()
    {
        int[] p = FreePorts(3);
        StartSocketVtpm("A", $"type=tcp,port={p[0]},bindaddr=127.0.0.1", $"type=tcp,port={p[1]},bindaddr=127.0.0.1");

        var (exit, output) = RunRefused(Executables.Vtpm(), SocketArgs("B", $"type=tcp,port={p[0]},bindaddr=127.0.0.1", $"type=tcp,port={p[2]},bindaddr=127.0.0.1"));

        AssertRefused(exit, output, $"127.0.0.1:{p[0]}");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "B")), "the refused vtpm created its state directory");
        for (int i = 0; i < 40; i++)
        {
            using var c = SocketClient.Tcp(p[0]);
            Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc, $"connection {i}");
        }
        // Nothing but the first may listen there.
        Assert.AreEqual(1, ListeningSockets(p[0]), "listening sockets on the data port");
    }

    [TestMethod]
    public void SecondVtpmOnTheControlPortOfALiveOneExitsAndTheFirstServesEveryConnection()
    {
        int[] p = FreePorts(3);
        StartSocketVtpm("A", $"type=tcp,port={p[0]}", $"type=tcp,port={p[1]}");

        var (exit, output) = RunRefused(Executables.Vtpm(), SocketArgs("B", $"type=tcp,port={p[2]}", $"type=tcp,port={p[1]}"));

        AssertRefused(exit, output, $"127.0.0.1:{p[1]}");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "B")), "the refused vtpm created its state directory");
        for (int i = 0; i < 40; i++)
        {
            using var c = SocketClient.Tcp(p[1]);
            Assert.AreEqual(0u, c.SendU32(CtrlGetCapability).ReadU32(), $"CMD_GET_CAPABILITY on connection {i}");
        }
        Assert.AreEqual(1, ListeningSockets(p[1]), "listening sockets on the control port");
    }

    /// <summary>Offset of the second simulator's command port from the first's, and which of its ports clashes.</summary>
    [TestMethod]
    [DataRow(0, 0, DisplayName = "same command port")]
    [DataRow(1, 1, DisplayName = "command port on the first's platform port")]
    [DataRow(-1, 0, DisplayName = "platform port on the first's command port")]
    public void SecondSimulatorOnABusyPortExitsAndTheFirstServesEveryConnection(int offset, int clash)
    {
        int[] p = FreePorts(3);
        int first = p[1];
        Start(Executables.Vtpm(), ["mssim", "--port", Num(first), "--tpmstate", $"dir={Path.Combine(_dir, "A")}"], "A");

        var (exit, output) = RunRefused(Executables.Vtpm(), ["mssim", "--port", Num(first + offset), "--tpmstate", $"dir={Path.Combine(_dir, "B")}"]);

        AssertRefused(exit, output, $"127.0.0.1:{first + clash}");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "B")), "the refused vtpm created its state directory");
        using (var platform = SocketClient.Tcp(first + 1))
        {
            Assert.AreEqual(0u, platform.SendU32(MssimPowerOn).ReadU32(), "POWER_ON");
        }
        using (var c = new RawTpmClient(first, TpmProtocol.Mssim))
        {
            Assert.AreEqual(TpmRc.Success, new Rsp(c.Transact(Cmd.Of(TpmCc.Startup).U16(0).Build()), false).Rc, "Startup(CLEAR)");
        }
        for (int i = 0; i < 20; i++)
        {
            using (var platform = SocketClient.Tcp(first + 1))
            {
                Assert.AreEqual(0u, platform.SendU32(MssimNvOn).ReadU32(), $"NV_ON on platform connection {i}");
            }
            using var c = new RawTpmClient(first, TpmProtocol.Mssim);
            Assert.AreEqual(TpmRc.Success, new Rsp(c.Transact(GetRandom8), false).Rc, $"GetRandom on command connection {i}");
        }
    }

    [TestMethod]
    public void SecondVtpmOnTheUnixSocketOfALiveOneExitsAndTheFirstServesEveryConnection()
    {
        string data = Path.Combine(_dir, "data.sock"), ctrl = Path.Combine(_dir, "ctrl.sock");
        StartSocketVtpm("A", $"type=unixio,path={data}", $"type=unixio,path={ctrl}");

        var (exit, output) = RunRefused(Executables.Vtpm(), SocketArgs("B", $"type=unixio,path={data}", $"type=unixio,path={Path.Combine(_dir, "ctrl-b.sock")}"));

        AssertRefused(exit, output, data);
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "B")), "the refused vtpm created its state directory");
        for (int i = 0; i < 40; i++)
        {
            using var c = SocketClient.Unix(data);
            Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc, $"connection {i}");
        }
    }

    /// <summary>
    /// The check for a live listener must not connect: a control channel opened with <c>terminate</c> exits when
    /// its client leaves, so a probing connection would stop the very server it found.
    /// </summary>
    [TestMethod]
    public void SecondVtpmOnATerminatingControlSocketLeavesTheFirstRunning()
    {
        string data = Path.Combine(_dir, "data.sock"), ctrl = Path.Combine(_dir, "ctrl.sock");
        var first = StartSocketVtpm("A", $"type=unixio,path={data}", $"type=unixio,path={ctrl},terminate");

        var (exit, output) = RunRefused(Executables.Vtpm(), SocketArgs("B", $"type=unixio,path={Path.Combine(_dir, "data-b.sock")}", $"type=unixio,path={ctrl}"));

        AssertRefused(exit, output, ctrl);
        Assert.IsFalse(first.Process.HasExited, "the first vtpm exited: something connected to its terminating control channel");
        using var c = SocketClient.Unix(data);
        Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc);
    }

    [TestMethod]
    public void TpmfrontOnABusyPortExitsBeforeJoiningTheRing()
    {
        int[] p = FreePorts(2);
        Start(Executables.Vtpm(), ["mssim", "--port", Num(p[0]), "--tpmstate", $"dir={Path.Combine(_dir, "A")}"], "A");
        string store = Directory.CreateDirectory(Path.Combine(_dir, "store")).FullName;

        var (exit, output) = RunRefused(TpmfrontExecutable.Path(), ["--store", store, "--name", "vtpm0", "mssim", "--port", Num(p[0])]);

        AssertRefused(exit, output, $"127.0.0.1:{p[0]}");
        Assert.IsEmpty(Directory.GetFileSystemEntries(store), "the refused tpmfront wrote to the rendezvous store");
    }

    [TestMethod]
    [DataRow(false, DisplayName = "after SIGTERM")]
    [DataRow(true, DisplayName = "after SIGKILL")]
    public void RestartOnTheSamePortsBindsAtOnce(bool kill)
    {
        int[] p = FreePorts(2);
        string data = $"type=tcp,port={p[0]}", ctrl = $"type=tcp,port={p[1]}";
        var first = StartSocketVtpm("A", data, ctrl);
        using (var c = SocketClient.Tcp(p[0]))
        {
            Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc);
            Stop(first, kill);
        }
        // The server closed its side first, so the old connection lingers on the port (TIME_WAIT).
        Assert.IsGreaterThan(0, ConnectionsLingeringOn(p[0]), "no lingering connection: the test would not show a TIME_WAIT restart");

        StartSocketVtpm("A", data, ctrl);
        using var again = SocketClient.Tcp(p[0]);
        Assert.AreEqual(TpmRc.Success, new Rsp(again.Send(GetRandom8).ReadTpmResponse(), false).Rc);
    }

    [TestMethod]
    public void StaleUnixSocketFileOfAKilledVtpmIsReplaced()
    {
        string data = Path.Combine(_dir, "data.sock"), ctrl = Path.Combine(_dir, "ctrl.sock");
        var first = StartSocketVtpm("A", $"type=unixio,path={data}", $"type=unixio,path={ctrl}");
        Stop(first, kill: true);
        Assert.IsTrue(File.Exists(data), "SIGKILL left no socket file behind: nothing stale to replace");

        StartSocketVtpm("A", $"type=unixio,path={data}", $"type=unixio,path={ctrl}");
        using var c = SocketClient.Unix(data);
        Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc);
    }

    [TestMethod]
    public void StaleUnixSocketFileWithoutAListenerIsReplaced()
    {
        string data = Path.Combine(_dir, "data.sock");
        // .NET unlinks the path a socket bound when it is disposed; a socket file moved away first is left behind,
        // as a crashed process leaves its own.
        string bound = Path.Combine(_dir, "bound.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(bound));
            stale.Listen(1);
            File.Move(bound, data);
        }
        Assert.IsTrue(File.Exists(data), "no stale socket file to replace");

        StartSocketVtpm("A", $"type=unixio,path={data}", $"type=unixio,path={Path.Combine(_dir, "ctrl.sock")}");
        using var c = SocketClient.Unix(data);
        Assert.AreEqual(TpmRc.Success, new Rsp(c.Send(GetRandom8).ReadTpmResponse(), false).Rc);
    }

    // ---- helpers ----

    List<string> SocketArgs(string state, string server, string ctrl) =>
        ["socket", "--tpm2", "--tpmstate", $"dir={Path.Combine(_dir, state)}", "--server", server, "--ctrl", ctrl,
            "--flags", "not-need-init,startup-clear"];

    ChildProcess StartSocketVtpm(string state, string server, string ctrl) => Start(Executables.Vtpm(), SocketArgs(state, server, ctrl), state);

    /// <summary>Starts a server and waits for its pid file (written once every address listens).</summary>
    ChildProcess Start(string exe, List<string> args, string name)
    {
        string pid = Path.Combine(_dir, name + ".pid");
        File.Delete(pid);
        var child = new ChildProcess(exe, [.. args, "--pid", $"file={pid}"]);
        _children.Add(child);
        var sw = Stopwatch.StartNew();
        while (!File.Exists(pid))
        {
            if (child.Process.HasExited) Assert.Fail($"{Path.GetFileName(exe)} exited with {child.Process.ExitCode} before listening:\n{child.Output}");
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"{Path.GetFileName(exe)} did not write its pid file:\n{child.Output}");
            Thread.Sleep(10);
        }
        return child;
    }

    /// <summary>Runs a program that must refuse to start; its exit code and everything it printed.</summary>
    (int Exit, string Output) RunRefused(string exe, List<string> args)
    {
        using var child = new ChildProcess(exe, args);
        Assert.IsTrue(child.WaitForExit(TimeSpan.FromSeconds(30)), $"{Path.GetFileName(exe)} started on a busy address and kept running:\n{child.Output}");
        child.Process.WaitForExit(); // drain the output readers
        return (child.Process.ExitCode, child.Output);
    }

    static void AssertRefused(int exit, string output, string address)
    {
        Assert.AreNotEqual(0, exit, $"exit code of the refused process; output:\n{output}");
        StringAssert.Contains(output, $"cannot listen on {address}", "the message must name the busy address");
        StringAssert.Contains(output, "in use");
    }

    static void Stop(ChildProcess child, bool kill)
    {
        if (kill) child.Signal(9);
        else child.Signal(15);
        Assert.IsTrue(child.WaitForExit(TimeSpan.FromSeconds(15)), "the server did not stop");
        if (!kill) Assert.AreEqual(0, child.Process.ExitCode, child.Output);
    }

    static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary><paramref name="count"/> consecutive free loopback ports.</summary>
    static int[] FreePorts(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var held = new List<Socket>();
            try
            {
                var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(first);
                first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                int p = ((IPEndPoint)first.LocalEndPoint!).Port;
                if (p + count > 65535) continue;
                for (int i = 1; i < count; i++)
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    held.Add(s);
                    s.Bind(new IPEndPoint(IPAddress.Loopback, p + i));
                }
                return [.. Enumerable.Range(p, count)];
            }
            catch (SocketException)
            {
            }
            finally
            {
                foreach (var s in held) s.Dispose();
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free loopback ports");
    }

    /// <summary>Sockets in /proc/net/tcp whose local port is <paramref name="port"/>, by TCP state (0A = LISTEN).</summary>
    static IEnumerable<string> TcpStates(int port) =>
        File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 3 && int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            .Select(f => f[3]);

    static int ListeningSockets(int port) => TcpStates(port).Count(s => s == "0A");

    /// <summary>Closed connections still holding the port: FIN_WAIT1/2, TIME_WAIT, CLOSE, LAST_ACK, CLOSING.</summary>
    static int ConnectionsLingeringOn(int port) => TcpStates(port).Count(s => s is "04" or "05" or "06" or "07" or "09" or "0B");
}
