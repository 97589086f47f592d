using System.Diagnostics;

namespace Vtpm.Tests.Support.Processes;

/// <summary>The openssl command line, the outside party the interop tests check keys, signatures and ciphertexts with.</summary>
public static class OpenSsl
{
    /// <summary>Runs openssl; its exit code and everything it printed.</summary>
    public static (int Exit, string Output) Try(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd() + stderr.GetAwaiter().GetResult();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    /// <summary>Runs openssl and fails the test if it does not succeed.</summary>
    public static string Run(params string[] args)
    {
        var (exit, output) = Try(args);
        if (exit != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)} exited with {exit}\n{output}");
        return output;
    }
}
