using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vtpm.Tests.Support.Processes;

/// <summary>
/// A TPM server process (swtpm or vtpm) on free loopback ports with its own state directory.
/// Start waits until both ports accept connections; Dispose stops it (SIGTERM, then SIGKILL) and deletes
/// a state directory it created.
/// </summary>
public sealed partial class TpmServer : IDisposable
{
    readonly StringBuilder _output = new();
    readonly bool _ownsStateDir;

    public TpmTarget Target { get; }
    /// <summary>Data (swtpm) or command (mssim) port.</summary>
    public int Port { get; }
    /// <summary>Control (swtpm) or platform (mssim) port: always Port + 1, as both TCTIs assume (ECOSYSTEM §5).</summary>
    public int ControlPort => Port + 1;
    public string StateDir { get; }
    ChildProcess _child = null!; // set by Launch once the companion (if any) is up

    public Process Process => _child.Process;

    /// <summary>The program and arguments, for messages.</summary>
    public string CommandLine => Process.StartInfo.FileName + " " + string.Join(' ', Process.StartInfo.ArgumentList);

    /// <summary>The tpm2-tools TCTI string for this server.</summary>
    public string Tcti => Target.Protocol == TpmProtocol.Mssim
        ? $"mssim:host=127.0.0.1,port={Port}"
        : $"swtpm:host=127.0.0.1,port={Port}";

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    TpmServer(TpmTarget target, int port, string stateDir, bool ownsStateDir)
    {
        Target = target;
        Port = port;
        StateDir = stateDir;
        _ownsStateDir = ownsStateDir;
    }

    public static TpmServer Start(string target, string? stateDir = null, bool startupClear = false) =>
        Start(TpmTarget.Parse(target), stateDir, startupClear);

    /// <summary>
    /// Starts a server. With <paramref name="startupClear"/> the swtpm-protocol server sends TPM2_Startup(CLEAR)
    /// itself (--flags startup-clear); otherwise the test sends it. The mssim flavour always comes up powered
    /// off: the mssim TCTI (or <see cref="PowerCycle"/>) powers it on.
    /// </summary>
    public static TpmServer Start(TpmTarget target, string? stateDir = null, bool startupClear = false)
    {
        bool owns = stateDir is null;
        stateDir ??= Directory.CreateTempSubdirectory("vtpm-test-state-").FullName;
        Directory.CreateDirectory(stateDir);
        string exe = ExecutableFor(target);
        Exception? last = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int port = FreePortPair();
            var args = Arguments(target, port, stateDir, startupClear);
            var server = Launch(target, exe, args, port, stateDir, owns);
            try
            {
                server.WaitUntilAnswering(TimeSpan.FromSeconds(target.Implementation == TpmImplementation.Vtpm ? 30 : 10));
                return server;
            }
            catch (PortClashException e)
            {
                // Another process took one of our ports between probing and binding: try new ones.
                last = e;
                server.DisposeProcessOnly();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
        if (owns) TryDeleteDirectory(stateDir);
        throw new InvalidOperationException("could not start a TPM server on free ports after 5 attempts", last);
    }

    /// <summary>Starts a process that is expected to fail (e.g. on a tampered state directory); does not wait for ports.</summary>
    public static TpmServer Launch(TpmTarget target, string stateDir, bool startupClear = false)
    {
        string exe = ExecutableFor(target);
        int port = FreePortPair();
        return Launch(target, exe, Arguments(target, port, stateDir, startupClear), port, stateDir, false);
    }

    static List<string> Arguments(TpmTarget target, int port, string stateDir, bool startupClear)
    {
        if (target.Implementation == TpmImplementation.Tpmfront) return TpmfrontArguments(port, stateDir);
        if (target.Protocol == TpmProtocol.Mssim)
        {
            return ["mssim", "--port", port.ToString(), "--tpmstate", $"dir={stateDir}"];
        }
        // swtpm's own grammar; vtpm accepts it verbatim (ISSUE2 §6).
        return ["socket", "--tpm2", "--tpmstate", $"dir={stateDir}",
            "--server", $"type=tcp,port={port}", "--ctrl", $"type=tcp,port={port + 1}",
            "--flags", startupClear ? "not-need-init,startup-clear" : "not-need-init"];
    }

    static TpmServer Launch(TpmTarget target, string exe, List<string> args, int port, string stateDir, bool owns)
    {
        var server = new TpmServer(target, port, stateDir, owns);
        server.StartCompanion();
        server._child = new ChildProcess(exe, args, line => { lock (server._output) server._output.AppendLine(line); }, redirectInput: true);
        return server;
    }

    void WaitUntilAnswering(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (Process.HasExited)
            {
                Process.WaitForExit();
                string output = Output;
                if (output.Contains("in use", StringComparison.OrdinalIgnoreCase) || output.Contains("bind", StringComparison.OrdinalIgnoreCase))
                    throw new PortClashException(output);
                throw new InvalidOperationException($"{Target} exited with code {Process.ExitCode} before answering\n  command: {CommandLine}\n  output:\n{output}");
            }
            if (CanConnect(Port) && CanConnect(ControlPort) && CompanionReady()) return;
            if (sw.Elapsed > timeout)
                throw new TimeoutException($"{Target} did not accept connections on {Port}/{ControlPort} within {timeout.TotalSeconds} s\n  command: {CommandLine}\n  output:\n{Output}");
            Thread.Sleep(50);
        }
    }

    static bool CanConnect(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Two consecutive free loopback ports (P, P+1): bind port 0, then check P+1.</summary>
    public static int FreePortPair()
    {
        for (int i = 0; i < 50; i++)
        {
            using var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            a.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int p = ((IPEndPoint)a.LocalEndPoint!).Port;
            if (p >= 65535) continue;
            using var b = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                b.Bind(new IPEndPoint(IPAddress.Loopback, p + 1));
                return p;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no pair of free loopback ports found");
    }

    /// <summary>A raw connection to the command channel.</summary>
    public RawTpmClient Connect(TimeSpan? timeout = null) => new(Port, Target.Protocol, timeout);

    /// <summary>Sends one command on a fresh connection and returns the response.</summary>
    public byte[] Transact(byte[] command)
    {
        using var c = Connect();
        return c.Transact(command);
    }

    /// <summary>
    /// _TPM_Init without restarting the process: CMD_INIT on swtpm's control channel, or POWER_OFF, POWER_ON,
    /// NV_ON on the simulator's platform port. The TPM then needs TPM2_Startup.
    /// </summary>
    public void PowerCycle()
    {
        if (Target.Protocol == TpmProtocol.Mssim)
            PlatformChannel.MssimSignals(ControlPort, PlatformChannel.PowerOff, PlatformChannel.PowerOn, PlatformChannel.NvOn);
        else
            PlatformChannel.SwtpmInit(ControlPort);
    }

    /// <summary>Powers the simulator on (the mssim TCTI does this itself; raw clients must).</summary>
    public void PowerOnIfSimulator()
    {
        if (Target.Protocol == TpmProtocol.Mssim)
            PlatformChannel.MssimSignals(ControlPort, PlatformChannel.PowerOn, PlatformChannel.NvOn);
    }

    /// <summary>SIGKILL: no chance to save anything.</summary>
    public void Kill()
    {
        if (!Process.HasExited) Process.Kill();
        Process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM (graceful), then SIGKILL after 5 s.</summary>
    public void Stop() => _child.Stop(TimeSpan.FromSeconds(5));

    /// <summary>Waits for the process to exit on its own; returns its exit code or null on timeout.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit((int)timeout.TotalMilliseconds)) return null;
        Process.WaitForExit(); // flush the asynchronous output readers
        return Process.ExitCode;
    }

    void DisposeProcessOnly()
    {
        Stop();
        StopCompanion();
        _child.Dispose();
    }

    public void Dispose()
    {
        DisposeProcessOnly();
        if (_ownsStateDir) TryDeleteDirectory(StateDir);
    }

    static void TryDeleteDirectory(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    sealed class PortClashException(string output) : Exception("port already in use:\n" + output);
}
