using System.Diagnostics;
using System.Text;

namespace Vtpm.Tests.Support.Processes;

/// <summary>The outcome of one tool run.</summary>
public sealed record ToolResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => $"{Command}\nexit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs tpm2-tools programs against one TCTI (passed in TPM2TOOLS_TCTI, which every tool honours) in a
/// working directory, with a timeout. <see cref="Run"/> throws with the command, exit code, stdout and
/// stderr when the tool fails; <see cref="Try"/> returns the result for tests that expect a failure.
/// </summary>
public sealed class Tpm2Tools(string tcti, string workDir)
{
    public string Tcti { get; } = tcti;
    public string WorkDir { get; } = workDir;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Path of a file in the working directory.</summary>
    public string PathOf(string name) => Path.Combine(WorkDir, name);

    public ToolResult Run(string tool, params string[] args)
    {
        var r = Try(tool, args);
        if (!r.Succeeded) throw new ToolFailedException(r);
        return r;
    }

    /// <summary>Runs a tool that is expected to fail; throws if it succeeds.</summary>
    public ToolResult Fail(string tool, params string[] args)
    {
        var r = Try(tool, args);
        if (r.Succeeded) throw new ToolFailedException(r, "expected the tool to fail but it succeeded");
        return r;
    }

    public ToolResult Try(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(Executables.FromPath(tool, "tpm2-tools"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TPM2TOOLS_TCTI"] = Tcti;
        string command = tool + " " + string.Join(' ', args.Select(a => a.Contains(' ') ? $"'{a}'" : a)) + $"   [TPM2TOOLS_TCTI={Tcti}]";
        using var p = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit((int)Timeout.TotalMilliseconds))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            throw new ToolFailedException(new ToolResult(command, -1, stdout.ToString(), stderr.ToString()),
                $"timed out after {Timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return new ToolResult(command, p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}

public sealed class ToolFailedException(ToolResult result, string? why = null)
    : Exception((why ?? "tool failed") + ":\n" + result)
{
    public ToolResult Result { get; } = result;
}
