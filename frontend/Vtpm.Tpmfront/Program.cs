using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Frontend;

namespace Vtpm.Tpmfront;

/// <summary>
/// The <c>tpmfront</c> executable: connects to a vTPM's tpmback through the rendezvous store and exposes it on
/// vtpm's guest-facing endpoints (swtpm socket + control channel, or the MS simulator protocol).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string? store = null, name = null;
        int extraPages = 1, spin = TpmifFrontend.DefaultSpinMicroseconds;
        var rest = new List<string>();
        string mode = "socket";
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value(string option) => a.StartsWith(option + "=", StringComparison.Ordinal) ? a[(option.Length + 1)..]
                    : i + 1 < args.Length ? args[++i] : throw new OptionException($"{option} needs a value");
                if (a == "--store" || a.StartsWith("--store=", StringComparison.Ordinal)) store = Value("--store");
                else if (a == "--name" || a.StartsWith("--name=", StringComparison.Ordinal)) name = Value("--name");
                else if (a == "--extra-pages" || a.StartsWith("--extra-pages=", StringComparison.Ordinal))
                {
                    string v = Value("--extra-pages");
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out extraPages) || extraPages > SharedRing.MaxExtraPages)
                        throw new OptionException($"--extra-pages: '{v}' is not a number in 0..{SharedRing.MaxExtraPages}");
                }
                else if (a == "--spin" || a.StartsWith("--spin=", StringComparison.Ordinal))
                {
                    string v = Value("--spin");
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out spin) || spin > 10_000)
                        throw new OptionException($"--spin: '{v}' is not a number of microseconds in 0..10000");
                }
                else if (a is "socket" or "mssim" && rest.Count == 0) mode = a;
                else if (a is "-h" or "--help")
                {
                    Console.Out.Write(HelpText);
                    return 0;
                }
                else if (a is "--tpm2") { } // accepted for swtpm-style command lines; the backend decides the TPM
                else if (a.Split('=')[0] is "--tpmstate" or "--key" or "--flags" or "--tpmback" or "--print-capabilities" or "--daemon" or "-d")
                    throw new OptionException($"{a.Split('=')[0]} is an option of the vTPM (vtpm), not of tpmfront");
                else rest.Add(a);
            }
            if (store is null || name is null) throw new OptionException("--store <dir> and --name <name> are required");
            if (!RendezvousStore.IsValidName(name)) throw new OptionException($"--name: '{name}' must be 1-64 characters of [A-Za-z0-9._-]");
        }
        catch (OptionException e)
        {
            await Console.Error.WriteLineAsync($"tpmfront: {e.Message}\nTry 'tpmfront --help'.");
            return 1;
        }

        // vtpm's parser decides the endpoints (same grammar, defaults and errors); the state directory it
        // insists on is not ours, so a placeholder is passed and ignored.
        HostOptions o;
        try
        {
            List<string> parse = mode == "socket" ? ["socket", "--tpm2", "--tpmstate", "dir=/"] : ["mssim", "--tpmstate", "dir=/"];
            o = CommandLine.Parse([.. parse, .. rest]);
        }
        catch (OptionException e)
        {
            await Console.Error.WriteLineAsync($"tpmfront: {e.Message}\nTry 'tpmfront --help'.");
            return 1;
        }
        return await RunAsync(o, store, name, extraPages, spin, Console.Out);
    }

    static async Task<int> RunAsync(HostOptions o, string storeDir, string name, int extraPages, int spin, TextWriter stdout)
    {
        using var logging = CreateLogging(o);
        var log = logging.CreateLogger("tpmfront");

        // The addresses first: a port or socket path another process serves stops us before we join the ring.
        IAsyncDisposable server;
        try
        {
            server = o.Mode == HostMode.Mssim ? new MssimServer(o.Server!, log) : new SwtpmServer(o, log);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            log.LogCritical("{Error}", e is ListenerException ? e.Message : $"cannot listen: {e.Message}");
            return 1;
        }

        // Served clients use the ring until the servers are gone: the servers go first, then the frontend.
        TpmifFrontend? frontend = null;
        try
        {
            frontend = new TpmifFrontend(new RendezvousStore(storeDir, name), log, extraPages) { SpinMicroseconds = spin };
            try
            {
                frontend.Start();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                log.LogCritical("{Error}", e.Message);
                return 1;
            }
            var tpm = new RingTpm(frontend, log);
            string tcti;
            if (server is MssimServer m)
            {
                m.Start(tpm);
                tcti = $"mssim:host={o.Server!.Host},port={m.Port}";
            }
            else
            {
                var s = (SwtpmServer)server;
                s.Start(tpm);
                tcti = s.Data is { } d ? d.Endpoint.IsUnix ? $"swtpm:path={d.Endpoint.UnixPath}" : $"swtpm:host={d.Endpoint.Host},port={d.Port}" : "";
            }
            if (o.PidFile is not null)
            {
                File.WriteAllText(o.PidFile + ".tmp", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
                File.Move(o.PidFile + ".tmp", o.PidFile, overwrite: true);
            }
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; tpm.RequestStop("SIGTERM"); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; tpm.RequestStop("SIGINT"); });
            if (o.PrintTcti && tcti.Length > 0) await stdout.WriteLineAsync($"TPM2TOOLS_TCTI={tcti}");
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, tpm.Stopping);
            }
            catch (OperationCanceledException)
            {
            }
            if (o.PidFile is not null) File.Delete(o.PidFile);
            log.LogInformation("stopped ({Reason})", tpm.StopReason);
            return 0;
        }
        finally
        {
            await server.DisposeAsync();
            frontend?.Dispose();
        }
    }

    static ILoggerFactory CreateLogging(HostOptions o)
    {
        var min = o.LogLevel switch { 0 => LogLevel.Warning, <= 2 => LogLevel.Information, _ => LogLevel.Debug };
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(min);
            if (o.LogFile == "-") return;
            if (o.LogFile is not null)
            {
                b.AddProvider(new FileLoggerProvider(new StreamWriter(new FileStream(o.LogFile, o.LogTruncate ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.ReadWrite)), o.LogPrefix));
                return;
            }
            b.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; });
            b.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        });
    }

    const string HelpText = """
        Usage: tpmfront --store <dir> --name <name> [socket] [vtpm socket's endpoint options]
               tpmfront --store <dir> --name <name> mssim [--port <P>] [--bindaddr <addr>]

        Connects to the vTPM served by 'vtpm … --tpmback store=<dir>,name=<name>' over a tpmif shared-memory
        ring and exposes it to clients with vtpm's own servers (the whole swtpm control channel, state blobs
        included). Either side may start first; if the vTPM goes away, commands get TPM_RC_FAILURE and control
        requests TPM_FAIL until it is back, then the ring reconnects by itself. CMD_SHUTDOWN (or a terminate
        client leaving) ends tpmfront; the vTPM stays and waits for a new frontend.

          --store <dir>            the rendezvous store (directory shared with the vTPM)
          --name <name>            the device name in the store
          --extra-pages <n>        tpmif extra pages granted per request (default 1: 4096-byte messages)
          --spin <us>              at most µs to poll for the response before sleeping on the doorbell (default 50;
                                   adaptive: drops to 0 while the backend cannot run meanwhile; 0 = never)
        socket (default), as vtpm socket:
          --server type=tcp[,port=<port>][,bindaddr=<addr>][,disconnect] | type=unixio,path=<path>[,mode=0...]
          -p|--port <port>
          --ctrl type=tcp,port=<port>[,bindaddr=<addr>][,terminate] | type=unixio,path=<path>[,mode=0...][,terminate]
          -t|--terminate
        mssim, as vtpm mssim:
          --port <P>               command port (default 2321); the platform port is P+1
          --bindaddr <addr>
        Common: --log file=<path>[,level=N], --pid file=<path>, --print-tcti, -h|--help
        SIGTERM/SIGINT stop cleanly: the ring is closed and nothing is left in /dev/shm.

        """;
}
