using System.Diagnostics;
using System.Globalization;
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
    readonly ChildProcess _child;

    public string Dir { get; }
    public string Store { get; }
    public string ControlPath => Path.Combine(Dir, "front-ctrl.sock");
    public string PidFile => Path.Combine(Dir, "tpmfront.pid");
    public Process Process => _child.Process;

    public string Output => _child.Output;

    public TpmfrontInstance(string dir, string store, bool terminate = false)
    {
        Dir = dir;
        Store = store;
        Directory.CreateDirectory(dir);
        _child = new ChildProcess(TpmfrontExecutable.Path(),
        [
            "--store", store, "--name", TpmServer.TpmfrontDevice, "socket", "--tpm2",
            "--ctrl", $"type=unixio,path={ControlPath}" + (terminate ? ",terminate" : ""),
            "--pid", $"file={PidFile}",
            "--log", "level=2",
        ]);
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

    public bool WaitForExit(TimeSpan timeout) => _child.WaitForExit(timeout);

    public void Dispose() => _child.Dispose();
}
