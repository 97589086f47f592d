using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Vtpm.Tests.Support.Processes;

/// <summary>
/// A process a test starts (vtpm, tpmfront, QEMU): its standard output and error collected line by line for
/// failure messages (and passed to <c>onLine</c> if given; error lines to <c>onErrorLine</c> when that is given),
/// standard input open for writing when asked, killed on Dispose if it is still running.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    readonly StringBuilder _output = new();

    public Process Process { get; }

    /// <summary>Everything it printed so far.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public ChildProcess(string executable, IEnumerable<string> arguments, Action<string>? onLine = null,
        Action<string>? onErrorLine = null, bool redirectInput = false)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        Process = new Process { StartInfo = psi };
        void Line(string? line, Action<string>? handler)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
            handler?.Invoke(line);
        }
        Process.OutputDataReceived += (_, e) => Line(e.Data, onLine);
        Process.ErrorDataReceived += (_, e) => Line(e.Data, onErrorLine ?? onLine);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public bool WaitForExit(TimeSpan timeout) => Process.WaitForExit(timeout);

    /// <summary>Sends <paramref name="signal"/> (kill(2)); false if it could not be delivered.</summary>
    public bool Signal(int signal) => SendSignal(Process.Id, signal) == 0;

    /// <summary>SIGTERM (graceful, as systemd or libvirt stop an emulator), then SIGKILL after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        try
        {
            if (Process.HasExited) return;
            Signal(15);
            if (!Process.WaitForExit(grace)) Process.Kill();
            Process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

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
