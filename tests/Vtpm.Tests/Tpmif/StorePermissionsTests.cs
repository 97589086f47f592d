using System.Diagnostics;
using System.Runtime.Versioning;
using Vtpm.Frontend;
using Vtpm.Tests.Host;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// Only the owner of a rendezvous store may write it, as only dom0 and the domain may write a device's Xenstore
/// nodes (see <c>StorePermissions</c>): a side refuses to start, and a backend refuses to connect, while
/// someone else could write the keys.
/// </summary>
[TestClass]
[SupportedOSPlatform("linux")]
public sealed class StorePermissionsTests
{
    const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    const UnixFileMode Mode0777 = Mode0755 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    string _root = "";

    [TestInitialize]
    public void CreateRoot() => _root = Directory.CreateTempSubdirectory("tpmif-store-").FullName;

    [TestCleanup]
    public void RemoveRoot() => Directory.Delete(_root, recursive: true);

    RendezvousStore Store() => new(_root, "dev0");

    [TestMethod]
    public void DirectoriesAreCreatedWritableByTheirOwnerOnlyAndKeysReadableByThePeer()
    {
        var store = Store();
        store.Create(Side.Backend);
        store.Write(Side.Backend, "uuid", "x");
        Assert.AreEqual(UnixFileMode.None, File.GetUnixFileMode(store.DeviceDirectory) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        Assert.AreEqual(UnixFileMode.None, File.GetUnixFileMode(store.SideDirectory(Side.Backend)) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        var key = File.GetUnixFileMode(Path.Combine(store.SideDirectory(Side.Backend), "uuid"));
        Assert.AreEqual(UnixFileMode.None, key & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        Assert.AreEqual(UnixFileMode.OtherRead, key & UnixFileMode.OtherRead);
        Assert.IsNull(store.TrustProblem());
    }

    [TestMethod]
    public void ADeviceDirectoryWritableByOthersIsRefused()
    {
        var store = Store();
        store.Create(Side.Backend);
        File.SetUnixFileMode(store.DeviceDirectory, Mode0777);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => store.Create(Side.Frontend));
        StringAssert.Contains(e.Message, store.DeviceDirectory);
        StringAssert.Contains(e.Message, "0777");
    }

    [TestMethod]
    public void ASideDirectoryWritableByItsGroupIsRefused()
    {
        var store = Store();
        store.Create(Side.Frontend);
        File.SetUnixFileMode(store.SideDirectory(Side.Frontend), Mode0755 | UnixFileMode.GroupWrite);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => store.Create(Side.Backend));
        StringAssert.Contains(e.Message, store.SideDirectory(Side.Frontend));
        StringAssert.Contains(e.Message, "0775");
    }

    [TestMethod]
    public void ASharedStoreDirectoryMustBeStickyLikeTmp()
    {
        var store = Store();
        File.SetUnixFileMode(_root, Mode0777);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => store.Create(Side.Backend));
        StringAssert.Contains(e.Message, "not sticky");
        File.SetUnixFileMode(_root, Mode0777 | UnixFileMode.StickyBit);
        store.Create(Side.Backend);
        Assert.IsNull(store.TrustProblem());
    }

    [TestMethod]
    public void ADeviceDirectoryThatIsASymbolicLinkIsRefused()
    {
        string elsewhere = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_root, "dev0"), elsewhere);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Store().Create(Side.Backend));
        StringAssert.Contains(e.Message, "symbolic link");
    }

    [TestMethod]
    public void ADeviceDirectoryOfAnotherUserIsRefused()
    {
        if (Environment.UserName != "root") Assert.Inconclusive("giving a directory to another user needs root");
        var store = Store();
        store.Create(Side.Backend);
        Assert.AreEqual(0, Process.Start("chown", ["65534", store.DeviceDirectory]).WaitForExitAsync().Wait(10_000) ? 0 : -1);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => store.Create(Side.Frontend));
        StringAssert.Contains(e.Message, "uid 65534");
    }

    [TestMethod]
    public void VtpmRefusesToStartOnAStoreOthersCanWrite()
    {
        string store = Directory.CreateDirectory(Path.Combine(_root, "rendezvous")).FullName;
        File.SetUnixFileMode(store, Mode0777);
        var psi = new ProcessStartInfo(Executables.Vtpm()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "socket", "--tpm2", "--tpmstate", $"dir={Directory.CreateDirectory(Path.Combine(_root, "state")).FullName}", "--tpmback", $"store={store},name=dev0" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
        {
            p.Kill();
            Assert.Fail("vtpm kept running on a world-writable store");
        }
        Assert.AreNotEqual(0, p.ExitCode);
        StringAssert.Contains(stderr.Result + stdout.Result, "writable by group or others");
    }

    [TestMethod]
    public void AFrontendDoesNotOfferARingWhileTheBackendsKeysAreWritableByOthers()
    {
        var log = new ListLogger();
        using var frontend = new TpmifFrontend(new RendezvousStore(_root, "dev0"), log);
        frontend.Start();
        // Then a backend's keys as a live process publishes them (this test process plays the backend), in a
        // directory anyone may write.
        var store = Store();
        store.Create(Side.Backend);
        File.SetUnixFileMode(store.SideDirectory(Side.Backend), Mode0777);
        store.WriteOwner(Side.Backend);
        store.Write(Side.Backend, "feature-protocol-v2", "1");
        store.WriteState(Side.Backend, XenbusState.InitWait);
        bool Warned() { lock (log.Lines) return log.Lines.Any(l => l.Contains("not connecting", StringComparison.Ordinal) && l.Contains(store.SideDirectory(Side.Backend), StringComparison.Ordinal)); }
        Assert.IsTrue(SpinWait.SpinUntil(Warned, 10_000), "no warning");
        Assert.IsNull(store.Read(Side.Frontend, "ring-ref"), "a ring was offered through an untrusted store");

        File.SetUnixFileMode(store.SideDirectory(Side.Backend), Mode0755);
        Assert.IsTrue(SpinWait.SpinUntil(() => store.Read(Side.Frontend, "ring-ref") is not null && store.ReadState(Side.Frontend) == XenbusState.Initialised, 10_000),
            "the frontend did not offer its ring once the directory was fixed");
        lock (log.Lines) Assert.AreEqual(1, log.Lines.Count(l => l.Contains("not connecting", StringComparison.Ordinal)), "the problem is logged once");
    }

    [TestMethod]
    public void ABackendWaitsWhileTheFrontendsKeysAreWritableByOthersAndConnectsOnceFixed()
    {
        using var backend = RingBackend.In(_root);
        var store = backend.Store;
        string Output() => backend.Output();
        backend.ClaimFrontendSide();
        File.SetUnixFileMode(store.SideDirectory(Side.Frontend), Mode0777);
        using var ring = SharedRing.Create(2, $"{TpmServer.TpmfrontDevice}-perm");
        RingTrace.Offer(store, ring);
        Assert.IsTrue(SpinWait.SpinUntil(() => Output().Contains("not connecting", StringComparison.Ordinal), 10_000), "no warning\n" + Output());
        Assert.AreEqual(XenbusState.InitWait, store.ReadState(Side.Backend));
        StringAssert.Contains(Output(), store.SideDirectory(Side.Frontend));

        File.SetUnixFileMode(store.SideDirectory(Side.Frontend), Mode0755);
        string reference = ring.Descriptor.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(SpinWait.SpinUntil(() => store.ReadState(Side.Backend) == XenbusState.Connected && store.Read(Side.Backend, "ready") == reference, 10_000),
            "backend did not connect once the directory was fixed\n" + Output());
    }
}
