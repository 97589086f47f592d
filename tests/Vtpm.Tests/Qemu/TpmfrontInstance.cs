using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// A <c>tpmfront socket</c> process in front of a <c>vtpm --tpmback</c>, run the way QEMU uses swtpm:
/// <c>--ctrl type=unixio,path=…[,terminate]</c> (the data channel comes with CMD_SET_DATAFD) and a pid file.
/// Ready once its pid file exists and the ring is Connected on both sides.
/// </summary>
public sealed class TpmfrontInstance : IDisposable
{
    readonly StringBuilder _output = new();

    public string Dir { get; }
    public string Store { get; }
    public string ControlPath => Path.Combine(Dir, "front-ctrl.sock");
    public string PidFile => Path.Combine(Dir, "tpmfront.pid");
    public Process Process { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public TpmfrontInstance(string dir, string store, bool terminate = false)
    {
        Dir = dir;
        Store = store;
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo(TpmfrontExecutable.Path())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--store", store, "--name", TpmServer.TpmfrontDevice, "socket", "--tpm2",
            "--ctrl", $"type=unixio,path={ControlPath}" + (terminate ? ",terminate" : ""),
            "--pid", $"file={PidFile}",
            "--log", "level=2",
        }) psi.ArgumentList.Add(a);
        Process = new Process { StartInfo = psi };
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (!File.Exists(PidFile) || !TpmServer.RingConnected(store))
        {
            if (Process.HasExited) throw new InvalidOperationException($"tpmfront exited with {Process.ExitCode} before connecting:\n{Output}");
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"tpmfront did not connect its ring:\n{Output}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Ring files of this tpmfront still in /dev/shm.</summary>
    public string[] RingFiles() =>
        Directory.GetFiles(SharedRing.ShmDirectory, $"{SharedRing.FilePrefix}{TpmServer.TpmfrontDevice}-{Process.Id.ToString(CultureInfo.InvariantCulture)}-*");

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
