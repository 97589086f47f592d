using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vtpm.Emulator.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tpm2.State;

namespace Vtpm.Emulator;

/// <summary>The <c>vtpm</c> executable: one TPM 2.0 instance behind swtpm's socket front end or the MS simulator protocol.</summary>
public static partial class Program
{
    const string DaemonChildVariable = "VTPM_DAEMON_CHILD";
    const string ReadyLine = "VTPM_READY";

    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.1.0";

    /// <summary>The feature verbs of --print-capabilities: only what this build implements.</summary>
    public static IReadOnlyList<string> Features { get; } =
    [
        "tpm-2.0",
        "flags-opt-startup",
        "flags-opt-disable-auto-shutdown",
        "cmdarg-key-fd",
        "cmdarg-pwd-fd",
        "nvram-backend-dir",
        "tpmstate-opt-lock",
    ];

    public static async Task<int> Main(string[] args)
    {
        HostOptions o;
        try
        {
            o = CommandLine.Parse(args);
        }
        catch (OptionException e)
        {
            await Console.Error.WriteLineAsync($"vtpm: {e.Message}\nTry 'vtpm --help'.");
            return 1;
        }
        if (o.Help)
        {
            Console.Out.Write(HelpText);
            return 0;
        }
        if (o.Version)
        {
            Console.Out.WriteLine($"vtpm version {Version} (TPM 2.0 emulator; swtpm-compatible socket front end, Microsoft simulator protocol)");
            return 0;
        }
        if (o.PrintCapabilities)
        {
            Console.Out.WriteLine(CapabilitiesJson());
            return 0;
        }
        bool daemonChild = Environment.GetEnvironmentVariable(DaemonChildVariable) == "1";
        if (o.Daemon && !daemonChild) return await DaemonizeAsync(args, o.PrintTcti);
        if (daemonChild && !OperatingSystem.IsWindows()) _ = SetSid();
        return await RunAsync(o, daemonChild, Console.Out, CancellationToken.None);
    }

    public static string CapabilitiesJson() =>
        $"{{ \"type\": \"swtpm\", \"features\": [ {string.Join(", ", Features.Select(f => $"\"{f}\""))} ], \"version\": \"{Version}\" }}";

    /// <summary>
    /// Runs an instance until it is asked to stop (signal, ctrl SHUTDOWN, mssim STOP, terminate).
    /// Returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(HostOptions o, bool daemonChild, TextWriter stdout, CancellationToken cancel)
    {
        using var logging = CreateLogging(o, daemonChild);
        var log = logging.CreateLogger("vtpm");

        // The addresses first: a port or socket path another process serves stops us before we touch any state.
        await using var servers = new ServerSet();
        MssimServer? mssim = null;
        SwtpmServer? swtpm = null;
        try
        {
            if (o.Mode == HostMode.Mssim) servers.Add(mssim = new MssimServer(o.Server!, log));
            else
            {
                servers.Add(swtpm = new SwtpmServer(o, log));
                if (swtpm.Data is null && swtpm.Control is null && o.Tpmback is null) throw new OptionException("nothing to listen on");
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or OptionException)
        {
            log.LogCritical("{Error}", e is ListenerException ? e.Message : $"cannot listen: {e.Message}");
            return 1;
        }

        DirectoryStateStore store;
        try
        {
            store = new DirectoryStateStore(o.StateDir!, o.Key, o.StateMode);
        }
        catch (Exception e) when (e is StateLockedException or IOException or UnauthorizedAccessException)
        {
            log.LogCritical("{Error}", e.Message);
            return 1;
        }
        using var host = new TpmHost(store, log)
        {
            StartupFlag = o.Startup,
            AutoShutdown = !o.DisableAutoShutdown,
            Trace = o.Trace,
            HasFileKey = o.Key is not null,
        };

        // Load (or manufacture) the state now, so a corrupt state directory stops us before we serve.
        try
        {
            host.Init(autoShutdown: false, sendStartup: o.Mode == HostMode.Socket && o.NotNeedInit);
            if (o.Mode == HostMode.Mssim || !o.NotNeedInit) host.PowerOff(autoShutdown: false);
        }
        catch (StateCorruptException e)
        {
            log.LogCritical("{Error}; refusing to start (the state is left untouched)", e.Message);
            return 1;
        }

        string tcti;
        if (mssim is not null)
        {
            mssim.Start(host);
            tcti = $"mssim:host={o.Server!.Host},port={mssim.Port}";
        }
        else
        {
            swtpm!.Start(host);
            tcti = swtpm.Data is { } d
                ? d.Endpoint.IsUnix ? $"swtpm:path={d.Endpoint.UnixPath}" : $"swtpm:host={d.Endpoint.Host},port={d.Port}"
                : "";
        }

        using var tpmback = Tpmif.TpmbackHook.Start(o, host, log);
        if (o.Tpmback is not null && tpmback is null) return 1;

        if (!WritePidFile(o, log)) return 1;

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; host.RequestStop("SIGTERM"); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; host.RequestStop("SIGINT"); });
        using var reg = cancel.Register(() => host.RequestStop("cancelled"));

        if (o.PrintTcti && tcti.Length > 0) await stdout.WriteLineAsync($"TPM2TOOLS_TCTI={tcti}");
        if (daemonChild) await stdout.WriteLineAsync(ReadyLine);
        await stdout.FlushAsync(CancellationToken.None);

        try
        {
            await Task.Delay(Timeout.Infinite, host.Stopping);
        }
        catch (OperationCanceledException)
        {
        }
        host.SendAutoShutdown();
        if (o.PidFile is not null) File.Delete(o.PidFile);
        log.LogInformation("stopped ({Reason})", host.StopReason);
        return 0;
    }

    static bool WritePidFile(HostOptions o, ILogger log)
    {
        string pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n";
        try
        {
            if (o.PidFile is not null)
            {
                string temp = o.PidFile + ".tmp";
                File.WriteAllText(temp, pid);
                File.Move(temp, o.PidFile, overwrite: true);
            }
            else if (o.PidFd is { } fd)
            {
                using var fs = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write);
                fs.Write(System.Text.Encoding.ASCII.GetBytes(pid));
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogCritical("cannot write the pid file: {Error}", e.Message);
            return false;
        }
    }

    static ILoggerFactory CreateLogging(HostOptions o, bool daemonChild)
    {
        // swtpm levels: none → warnings only; 1–2 informational; 3–4 debug; ≥5 everything plus the command trace.
        var min = o.LogLevel switch
        {
            0 => LogLevel.Warning,
            <= 2 => LogLevel.Information,
            <= 4 => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        if (o.Trace && min > LogLevel.Information) min = LogLevel.Information;
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(min);
            if (o.LogFile == "-") return; // swtpm: '-' suppresses logging
            if (o.LogFile is not null || o.LogFd is not null)
            {
                TextWriter w = o.LogFile is not null
                    ? new StreamWriter(new FileStream(o.LogFile, o.LogTruncate ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
                    : new StreamWriter(new FileStream(new SafeFileHandle(o.LogFd!.Value, ownsHandle: true), FileAccess.Write));
                b.AddProvider(new FileLoggerProvider(w, o.LogPrefix));
            }
            else if (!daemonChild)
            {
                // Logs go to stderr: stdout carries only the TPM2TOOLS_TCTI line.
                b.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; });
                b.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        });
    }

    /// <summary>
    /// --daemon: .NET cannot fork, so the program re-executes itself detached (new session), waits until the
    /// child listens, relays the TCTI line and exits; the child writes the pid file.
    /// </summary>
    static async Task<int> DaemonizeAsync(string[] args, bool printTcti)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[DaemonChildVariable] = "1";
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string? line;
        while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
        {
            if (line == ReadyLine) return 0;
            if (printTcti) Console.Out.WriteLine(line);
        }
        await child.WaitForExitAsync();
        await Console.Error.WriteAsync(await stderr);
        return child.ExitCode == 0 ? 1 : child.ExitCode;
    }

    [LibraryImport("libc", EntryPoint = "setsid")]
    private static partial int SetSid();

    const string HelpText = """
        Usage: vtpm socket --tpm2 [options]     swtpm-compatible TPM 2.0 (data + control channel)
               vtpm mssim [options]             Microsoft TPM simulator protocol on --port P and P+1

        vtpm socket options (swtpm's grammar and defaults):
          --tpm2                   TPM 2.0 (required: TPM 1.2 is not available yet)
          --tpmstate dir=<dir>[,mode=0640][,lock][,fsync] | backend-uri=dir://<dir>
                                   state directory (env TPM_PATH); files tpm2-00.permall,
                                   tpm2-00.volatilestate, tpm2-00.savestate; always locked and fsynced
          --server type=tcp[,port=<port>][,bindaddr=<addr>][,disconnect] | type=unixio,path=<path>[,mode=0...]
                                   data channel (default tcp 127.0.0.1, port $TPM_PORT or 6545)
          -p|--port <port>         same as --server type=tcp,port=<port>
          --ctrl type=tcp,port=<port>[,bindaddr=<addr>][,terminate] | type=unixio,path=<path>[,mode=0...][,terminate]
                                   control channel (tpm_ioctl.h protocol); terminate: exit when its client leaves.
                                   QEMU (-tpmdev emulator) hands the data channel over it (CMD_SET_DATAFD);
                                   with --ctrl and no --server/--port no data port is opened
          --flags [not-need-init][,startup-clear|startup-state|startup-none][,disable-auto-shutdown]
          -t|--terminate           exit when the data client disconnects
          --print-capabilities     print the supported features as JSON and exit
        vtpm mssim options:
          --port <P>               command port (default 2321); the platform port is P+1
          --bindaddr <addr>        default 127.0.0.1
          --tpmstate dir=<dir>     as above (env TPM_PATH)
          --trace                  log every command decoded (name, handles, response code, microseconds)
        Common options:
          --key file=<path>|fd=<fd>[,format=hex|binary][,mode=aes-cbc|aes-256-cbc|aes-256-gcm][,remove[=true|false]]
          --key pwdfile=<path>|pwdfd=<fd>[,kdf=pbkdf2|sha512][,remove[=true|false]]
                                   encrypt the state files. Whatever mode= says, vtpm seals each file with
                                   AES-256-GCM (key derived with HKDF-SHA256 from the 16- or 32-byte key)
          --log file=<path>|fd=<fd>[,level=N][,prefix=<text>][,truncate]
                                   level 1-2 info, 3-4 debug, >=5 also traces every command; file=- disables
          --pid file=<path>|fd=<fd>  write the process id once listening
          -d|--daemon              detach once listening
          --print-tcti             print TPM2TOOLS_TCTI=<tcti> on stdout once listening
          --tpmback store=<dir>,name=<name>[,uuid=<uuid>][,spin=<us>]
                                   also serve the TPM over a tpmif shared-memory ring, registered as device
                                   <name> in the rendezvous store <dir> (reach it with tpmfront); in socket
                                   mode without --server/--port/--ctrl, the ring is the only way in;
                                   spin: at most µs to poll for the next request before sleeping (default
                                   50, adaptive; 0 = never)
          -h|--help, -v|--version
        SIGTERM/SIGINT stop gracefully: TPM2_Shutdown(CLEAR) first unless disable-auto-shutdown.

        """;
}

/// <summary>The servers of one run, disposed together.</summary>
public sealed class ServerSet : IAsyncDisposable
{
    readonly List<IAsyncDisposable> _servers = [];

    public IReadOnlyList<IAsyncDisposable> Servers => _servers;

    public void Add(IAsyncDisposable server) => _servers.Add(server);

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync().ConfigureAwait(false);
    }
}
