using System.Diagnostics;
using System.Text;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// A real <c>vtpm socket --tpmback</c> for tests that play the frontend themselves: started in a directory of
/// its own (deleted on Dispose) or a given one, its output kept for failure messages, killed on Dispose.
/// </summary>
internal sealed class RingBackend : IDisposable
{
    readonly StringBuilder _output = new();
    readonly bool _ownsDirectory;

    public string Directory { get; }
    public Process Process { get; }

    /// <summary>The device's rendezvous store (DIR/rendezvous, device <see cref="TpmServer.TpmfrontDevice"/>).</summary>
    public RendezvousStore Store { get; }

    /// <summary>Starts vtpm in a new temporary directory named after <paramref name="prefix"/>.</summary>
    public static RingBackend InNewDirectory(string prefix) => new(System.IO.Directory.CreateTempSubdirectory(prefix).FullName, ownsDirectory: true);

    /// <summary>Starts vtpm in <paramref name="directory"/>, which the caller keeps.</summary>
    public static RingBackend In(string directory) => new(directory, ownsDirectory: false);

    RingBackend(string directory, bool ownsDirectory)
    {
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        Process = TpmServer.StartBackend(directory, l => { lock (_output) _output.AppendLine(l); });
        Store = new RendezvousStore(Path.Combine(directory, "rendezvous"), TpmServer.TpmfrontDevice);
    }

    /// <summary>Everything vtpm printed so far.</summary>
    public string Output()
    {
        lock (_output) return _output.ToString();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }
        Process.Dispose();
        if (_ownsDirectory) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
