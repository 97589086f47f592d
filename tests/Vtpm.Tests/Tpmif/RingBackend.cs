using System.Buffers.Binary;
using System.Diagnostics;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// A real <c>vtpm socket --tpmback</c> for tests that play the frontend themselves: started in a directory of
/// its own (deleted on Dispose) or a given one, its output kept for failure messages, killed on Dispose.
/// </summary>
internal sealed class RingBackend : IDisposable
{
    readonly ChildProcess _vtpm;
    readonly bool _ownsDirectory;

    public string Directory { get; }
    public Process Process => _vtpm.Process;

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
        _vtpm = TpmServer.StartBackend(directory);
        Store = new RendezvousStore(Path.Combine(directory, "rendezvous"), TpmServer.TpmfrontDevice);
    }

    /// <summary>Everything vtpm printed so far.</summary>
    public string Output() => _vtpm.Output;

    /// <summary>Waits for the backend's InitWait, then claims the frontend side for the test process, which plays the frontend.</summary>
    public void ClaimFrontendSide()
    {
        Assert.IsTrue(SpinWait.SpinUntil(() => Store.ReadState(Side.Backend) == XenbusState.InitWait, 30_000), "backend never reached InitWait\n" + Output());
        Store.Create(Side.Frontend);
        Store.WriteOwner(Side.Frontend);
    }

    static readonly byte[] StartupClear = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
    static readonly byte[] GetRandom8 = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

    static uint Rc(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    /// <summary>
    /// After a test played a (bad) frontend: that frontend leaves, a well-behaved one connects, and vtpm serves
    /// it. Whatever the earlier one did to the TPM (it may have started or shut it down), _TPM_Init and a
    /// Startup bring it back.
    /// </summary>
    public void AssertServesAGoodFrontend()
    {
        Store.WriteState(Side.Frontend, XenbusState.Closed);
        System.IO.Directory.Delete(Store.SideDirectory(Side.Frontend), recursive: true);
        using var good = new TpmifFrontend(Store);
        good.Start();
        Assert.IsTrue(good.WaitConnected(TimeSpan.FromSeconds(15)), "the good frontend did not connect\n" + Output());
        Assert.AreEqual(0u, Rc(good.Transact(RingPlatform.Build(PlatformSignal.Init))), Output());
        Assert.AreEqual(0u, Rc(good.Transact(StartupClear)), Output());
        var rsp = good.Transact(GetRandom8);
        Assert.AreEqual(0u, Rc(rsp));
        Assert.HasCount(20, rsp);
        Assert.IsFalse(Process.HasExited, Output());
    }

    public void Dispose()
    {
        _vtpm.Dispose();
        if (_ownsDirectory) System.IO.Directory.Delete(Directory, recursive: true);
    }
}
