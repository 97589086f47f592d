namespace Vtpm.Tests.Support.Processes;

/// <summary>Finds the programs the process-level tests run. A missing program is an error with a clear message, never a skip.</summary>
public static class Executables
{
    /// <summary>The repository root: the first ancestor of the test assembly that holds VtpmStack.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "VtpmStack.sln"))) return dir.FullName;
            }
            throw new InvalidOperationException($"VtpmStack.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>
    /// Our emulator: <c>VTPM_EXE</c> if set; else the build output of the same configuration as the running
    /// test assembly (so a Debug test run never picks up a stale Release build); else <c>bin/vtpm</c> (the
    /// launcher build.sh writes, which runs the Release build); else the other configuration's output.
    /// </summary>
    public static string Vtpm()
    {
        var env = Environment.GetEnvironmentVariable("VTPM_EXE");
        if (!string.IsNullOrEmpty(env))
        {
            return File.Exists(env) ? env : throw new FileNotFoundException($"VTPM_EXE={env} does not exist");
        }
        string root = RepoRoot;
        string Output(string configuration) => Path.Combine(root, "emulator", "Vtpm.Emulator", "bin", configuration, "net10.0", "vtpm");
        string mine = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string other = mine == "Debug" ? "Release" : "Debug";
        string launcher = Path.Combine(root, "bin", "vtpm");
        var candidates = new List<string> { Output(mine) };
        if (File.Exists(Output("Release"))) candidates.Add(launcher); // the launcher is only usable with a Release build
        candidates.Add(Output(other));
        foreach (var c in candidates)
        {
            if (File.Exists(c)) return c;
        }
        throw new FileNotFoundException(
            "vtpm executable not found; looked for " + string.Join(", ", candidates.Append(launcher).Distinct()) +
            ". Run ./build.sh (or ./build.sh test, which builds it) first.");
    }

    /// <summary>A program from PATH, e.g. swtpm or tpm2_getrandom.</summary>
    public static string FromPath(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException(
            $"'{name}' is not installed (Debian package {package}); ./build.sh test installs it.");
    }

    public static string Swtpm() => FromPath("swtpm", "swtpm");
}
