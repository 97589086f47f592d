using System.Diagnostics;

namespace Vtpm.Tests.Support.Processes;

/// <summary>
/// The "tpmfront-…" targets: the server process is <c>tpmfront</c>, and a companion <c>vtpm socket --tpm2
/// --tpmback</c> (started first, state in STATE/state) serves the TPM through the rendezvous store
/// STATE/rendezvous, device "dev0". The companion's output is merged into <see cref="Output"/> with a prefix.
/// </summary>
public sealed partial class TpmServer
{
    public const string TpmfrontDevice = "dev0";

    ChildProcess? _companion;

    /// <summary>The vtpm behind tpmfront (null for the other targets).</summary>
    public Process? Companion => _companion?.Process;

    /// <summary>The rendezvous store of a tpmfront target.</summary>
    public string RendezvousStore => Path.Combine(StateDir, "rendezvous");

    static string ExecutableFor(TpmTarget target) => target.Implementation switch
    {
        TpmImplementation.Swtpm => Executables.Swtpm(),
        TpmImplementation.Tpmfront => TpmfrontExecutable.Path(),
        _ => Executables.Vtpm(),
    };

    static List<string> TpmfrontArguments(int port, string stateDir) =>
        ["--store", Path.Combine(stateDir, "rendezvous"), "--name", TpmfrontDevice, "mssim", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>Starts the vtpm backend of a tpmfront target.</summary>
    void StartCompanion()
    {
        if (Target.Implementation != TpmImplementation.Tpmfront) return;
        _companion = StartBackend(StateDir, line => { lock (_output) _output.AppendLine("[vtpm] " + line); });
    }

    /// <summary>Starts <c>vtpm socket --tpm2 --tpmstate dir=STATE/state --tpmback store=STATE/rendezvous,name=dev0</c>.</summary>
    public static ChildProcess StartBackend(string stateDir, Action<string>? output = null)
    {
        string state = Path.Combine(stateDir, "state");
        Directory.CreateDirectory(state);
        return new ChildProcess(Executables.Vtpm(),
            ["socket", "--tpm2", "--tpmstate", $"dir={state}", "--tpmback", $"store={Path.Combine(stateDir, "rendezvous")},name={TpmfrontDevice}", "--log", "level=2"],
            output, redirectInput: true);
    }

    /// <summary>True once both sides of the ring published Connected (always true for the other targets).</summary>
    bool CompanionReady()
    {
        if (_companion is null) return true;
        if (_companion.Process.HasExited) throw new InvalidOperationException($"the vtpm behind tpmfront exited with code {_companion.Process.ExitCode}\n{Output}");
        return RingConnected(RendezvousStore);
    }

    /// <summary>Both the frontend and backend state keys read 4 (Connected).</summary>
    public static bool RingConnected(string store) =>
        ReadKey(store, "frontend", "state") == "4" && ReadKey(store, "backend", "state") == "4";

    public static string? ReadKey(string store, string side, string key)
    {
        try
        {
            return File.ReadAllText(Path.Combine(store, TpmfrontDevice, side, key)).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    void StopCompanion()
    {
        var companion = _companion;
        if (companion is null) return;
        companion.Stop(TimeSpan.FromSeconds(5));
        companion.Dispose();
        _companion = null;
    }
}

/// <summary>Where the tpmfront executable is: TPMFRONT_EXE, else the build output next to vtpm's.</summary>
public static class TpmfrontExecutable
{
    public static string Path()
    {
        var env = Environment.GetEnvironmentVariable("TPMFRONT_EXE");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : throw new FileNotFoundException($"TPMFRONT_EXE={env} does not exist");
        string root = Executables.RepoRoot;
        string mine = AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Debug{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        foreach (var c in new[] { mine, mine == "Debug" ? "Release" : "Debug" })
        {
            var p = System.IO.Path.Combine(root, "frontend", "Vtpm.Tpmfront", "bin", c, "net10.0", "tpmfront");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("tpmfront executable not found; run ./build.sh first.");
    }
}
