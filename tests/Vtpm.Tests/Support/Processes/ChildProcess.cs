using System.Diagnostics;
using System.Text;

namespace Vtpm.Tests.Support.Processes;

/// <summary>
/// A process a test starts (vtpm, tpmfront): its standard output and error collected line by line for failure
/// messages (and passed to <c>onLine</c> if given), killed on Dispose if it is still running.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    readonly StringBuilder _output = new();

    public Process Process { get; }

    /// <summary>Everything it printed so far.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public ChildProcess(string executable, IEnumerable<string> arguments, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        Process = new Process { StartInfo = psi };
        void Line(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
            onLine?.Invoke(line);
        }
        Process.OutputDataReceived += (_, e) => Line(e.Data);
        Process.ErrorDataReceived += (_, e) => Line(e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public bool WaitForExit(TimeSpan timeout) => Process.WaitForExit(timeout);

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }
        Process.Dispose();
    }
}
