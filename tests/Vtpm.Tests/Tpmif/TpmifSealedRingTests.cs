using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// Rings are sealed memfds (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), so a hostile peer cannot truncate the
/// memory under the other side's mapping (which would kill it with SIGBUS): the backend refuses anything else,
/// a resize attempt fails with EPERM, and nothing is left behind.
/// </summary>
[TestClass]
public sealed class TpmifSealedRingTests
{
    static readonly byte[] StartupClear = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
    static readonly byte[] GetRandom8 = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

    static uint Rc(ReadOnlySpan<byte> response) => BinaryPrimitives.ReadUInt32BigEndian(response[6..]);

    static void WaitFor(Func<bool> condition, string what, int ms = 15_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > ms) Assert.Fail($"timed out after {ms} ms waiting for {what}");
            Thread.Sleep(10);
        }
    }

    /// <summary>A memfd of the right size for one ring page that is not sealed (or sealed with <paramref name="seals"/> only).</summary>
    static int UnsealedMemfd(int seals = 0)
    {
        int fd = Libc.MemfdCreate(SharedRing.FilePrefix + "unsealed", Libc.MfdCloexec | Libc.MfdAllowSealing);
        Assert.IsGreaterThanOrEqualTo(0, fd, Libc.LastError());
        Assert.AreEqual(0, Libc.Ftruncate(fd, SharedRing.FileSize(1)), Libc.LastError());
        if (seals != 0) Assert.AreEqual(0, Libc.Fcntl(fd, Libc.FAddSeals, seals), Libc.LastError());
        return fd;
    }

    static void AssertRefused(int fd, int pages, string why, string? identity = null)
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SharedRing.Open(identity ?? ProcessIdentity.Current, fd, pages));
        StringAssert.Contains(e.Message, why);
    }

    [TestMethod]
    public void BackendRefusesARingThatIsNotASealedMemfd()
    {
        // A regular file on disk: no seals at all.
        string tmp = Path.GetTempFileName();
        // A file in /dev/shm (what rings used to be): tmpfs, but created without MFD_ALLOW_SEALING.
        string shm = Path.Combine(SharedRing.ShmDirectory, $"{SharedRing.FilePrefix}refused-{Guid.NewGuid():N}");
        try
        {
            using (var disk = File.OpenHandle(tmp, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.SetLength(disk, SharedRing.FileSize(1));
                AssertRefused((int)disk.DangerousGetHandle(), 1, "is not a sealable memfd");
            }
            using (var file = File.OpenHandle(shm, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                RandomAccess.SetLength(file, SharedRing.FileSize(1));
                AssertRefused((int)file.DangerousGetHandle(), 1, "is not sealed against resizing");
            }
            foreach (int seals in new[] { 0, Libc.FSealShrink | Libc.FSealGrow, Libc.FSealShrink | Libc.FSealSeal })
            {
                int fd = UnsealedMemfd(seals);
                try
                {
                    AssertRefused(fd, 1, "is not sealed against resizing");
                }
                finally
                {
                    _ = Libc.Close(fd);
                }
            }
            // A descriptor that is not a regular file at all (a pipe, a terminal, /dev/null): never even opened.
            using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
            AssertRefused((int)pipe.SafePipeHandle.DangerousGetHandle(), 1, "is not a regular file");
        }
        finally
        {
            File.Delete(tmp);
            File.Delete(shm);
        }
    }

    [TestMethod]
    public void BackendRefusesARingOfTheWrongSizeOrNotHeldByTheRegisteredFrontend()
    {
        using var ring = SharedRing.Create(1, "size-" + Guid.NewGuid().ToString("N"));
        AssertRefused(ring.Descriptor, 2, "expected");
        AssertRefused(ring.Descriptor, 99, "outside");
        // The pid key names another process (or this pid with another start time, i.e. a recycled pid).
        string[] me = ProcessIdentity.Current.Split(':');
        AssertRefused(ring.Descriptor, 1, "is not running", $"{me[0]}:{long.Parse(me[1], System.Globalization.CultureInfo.InvariantCulture) + 1}");
        AssertRefused(ring.Descriptor, 1, "is not pid:starttime", "garbage");
        AssertRefused(100_000, 1, "No such file");
        // The right process, descriptor and size: mapped, and both mappings see the same memory.
        using var other = SharedRing.Open(ProcessIdentity.Current, ring.Descriptor, 1);
        ring.WriteRequestHeader(1234, 2, 0);
        Assert.AreEqual(1234u, other.ReadHeader().Length);
        Assert.AreEqual(ring.Inode, other.Inode);
    }

    [TestMethod]
    public unsafe void NobodyCanResizeASealedRingNotEvenItsCreator()
    {
        using var ring = SharedRing.Create(2, "resize-" + Guid.NewGuid().ToString("N"));
        long size = SharedRing.FileSize(2);
        foreach (long newSize in new[] { 0L, SharedRing.PageSize, size + SharedRing.PageSize, 1L << 30 })
        {
            Assert.AreEqual(-1, Libc.Ftruncate(ring.Descriptor, newSize));
            Assert.AreEqual(Libc.Eperm, Marshal.GetLastPInvokeError());
        }
        // A second open file description (what the backend gets from /proc/PID/fd/N) is bound by the same seals.
        int again = Libc.Open($"/proc/self/fd/{ring.Descriptor}", Libc.ORdwr | Libc.OCloexec);
        Assert.IsGreaterThanOrEqualTo(0, again, Libc.LastError());
        try
        {
            Assert.AreEqual(-1, Libc.Ftruncate(again, 0));
            Assert.AreEqual(Libc.Eperm, Marshal.GetLastPInvokeError());
            // F_SEAL_SEAL: no seal can be added (nor removed: seals only ever accumulate).
            Assert.AreEqual(-1, Libc.Fcntl(again, Libc.FAddSeals, Libc.FSealWrite));
            Assert.AreEqual(Libc.Eperm, Marshal.GetLastPInvokeError());
            Assert.AreEqual(SharedRing.RequiredSeals, Libc.Fcntl(again, Libc.FGetSeals, 0));
        }
        finally
        {
            _ = Libc.Close(again);
        }
        Libc.Statx st;
        Assert.AreEqual(0, Libc.StatxCall(ring.Descriptor, "", Libc.AtEmptyPath, Libc.StatxSize, &st));
        Assert.AreEqual((ulong)size, st.Size);
        // Every page is still there.
        ring.PagePointer(1)[SharedRing.PageSize - 1] = 7;
    }

    /// <summary>What a frontend does for one request without extra pages: write, SUBMIT, kick, wait for FINISH.</summary>
    static byte[] Submit(SharedRing ring, byte[] command)
    {
        ring.CopyToPages([], command);
        ring.WriteRequestHeader((uint)command.Length, 0, 0);
        ring.SetState(TpmifState.Submit);
        ring.KickBackend();
        WaitFor(() => ring.State == TpmifState.Finish, "FINISH");
        var rsp = new byte[ring.ReadHeader().Length];
        ring.CopyFromPages([], rsp);
        return rsp;
    }

    [TestMethod]
    public void VtpmRefusesUnsealedRingsWithALogLineAndServesTheNextFrontend()
    {
        using var backend = RingBackend.InNewDirectory("tpmif-sealed-");
        var (vtpm, store) = (backend.Process, backend.Store);
        string Output() => backend.Output();
        backend.ClaimFrontendSide();
        // An unsealed memfd of the right size: the frontend could shrink it under vtpm's mapping later.
        int fd = UnsealedMemfd();
        try
        {
            RingTrace.Offer(store, fd.ToString(System.Globalization.CultureInfo.InvariantCulture), 1);
            WaitFor(() => Output().Contains("is not sealed against resizing", StringComparison.Ordinal), "the refusal in vtpm's log\n" + Output());
            StringAssert.Contains(Output(), $"refusing ring-ref '{fd}' of frontend {ProcessIdentity.Current}");
            // An old-style /dev/shm path is no ring-ref any more.
            RingTrace.Offer(store, "/dev/shm/vtpm-tpmif-dev0-1-1", 1);
            WaitFor(() => Output().Contains("ring-ref -1 is not a descriptor number", StringComparison.Ordinal), "the second refusal\n" + Output());
            Assert.AreEqual(XenbusState.InitWait, store.ReadState(Side.Backend));
            Assert.IsEmpty(RingTrace.Mappings(vtpm.Id), "vtpm mapped a refused ring");
        }
        finally
        {
            _ = Libc.Close(fd);
        }
        backend.AssertServesAGoodFrontend();
    }

    [TestMethod]
    public void AHostileFrontendCannotShrinkOrGrowTheRingAndVtpmKeepsServingIt()
    {
        using var backend = RingBackend.InNewDirectory("tpmif-sealed-");
        var (vtpm, store) = (backend.Process, backend.Store);
        string Output() => backend.Output();
        backend.ClaimFrontendSide();
        using var ring = SharedRing.Create(1, TpmServer.TpmfrontDevice + "-hostile");
        RingTrace.Offer(store, ring);
        WaitFor(() => store.ReadState(Side.Backend) == XenbusState.Connected, "backend Connected\n" + Output());
        Assert.HasCount(1, RingTrace.Mappings(vtpm.Id));
        Assert.AreEqual(0u, Rc(Submit(ring, RingPlatform.Build(PlatformSignal.Init))));
        Assert.AreEqual(0u, Rc(Submit(ring, StartupClear)));

        // With a plain shared file, ftruncate(0) here made vtpm's next access to the page raise SIGBUS.
        foreach (long size in new[] { 0L, SharedRing.PageSize, SharedRing.FileSize(1) + SharedRing.PageSize })
        {
            Assert.AreEqual(-1, Libc.Ftruncate(ring.Descriptor, size), $"ftruncate to {size} succeeded");
            Assert.AreEqual(Libc.Eperm, Marshal.GetLastPInvokeError());
            var rsp = Submit(ring, GetRandom8);
            Assert.AreEqual(0u, Rc(rsp));
            Assert.HasCount(20, rsp);
        }
        Assert.IsFalse(vtpm.HasExited, Output());

        // The hostile frontend leaves: vtpm drops its mapping and waits for the next frontend.
        store.WriteState(Side.Frontend, XenbusState.Closing);
        ring.KickControl();
        ring.KickBackend();
        WaitFor(() => store.ReadState(Side.Backend) == XenbusState.InitWait, "backend InitWait again\n" + Output());
        Assert.IsEmpty(RingTrace.Mappings(vtpm.Id));
        Assert.IsEmpty(RingTrace.Descriptors(vtpm.Id));
        StringAssert.DoesNotMatch(Output(), new System.Text.RegularExpressions.Regex("Unhandled exception|Fatal error|SIGBUS"));
    }

    [TestMethod]
    public void ACleanStopLeavesNoMappingDescriptorOrShmFileOnEitherSide()
    {
        using var backend = RingBackend.InNewDirectory("tpmif-sealed-");
        var (vtpm, store) = (backend.Process, backend.Store);
        string Output() => backend.Output();
        string device = $"{TpmServer.TpmfrontDevice}-";
        using (var front = new TpmifFrontend(store))
        {
            front.Start();
            Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(15)), Output());
            Assert.AreEqual(0u, Rc(front.Transact(RingPlatform.Build(PlatformSignal.Init))));
            // Connected: one mapping in each process, and no descriptor left open in either.
            Assert.HasCount(1, RingTrace.Mappings(Environment.ProcessId, device));
            Assert.HasCount(1, RingTrace.Mappings(vtpm.Id, device));
            Assert.IsEmpty(RingTrace.Descriptors(Environment.ProcessId, device));
            Assert.IsEmpty(RingTrace.Descriptors(vtpm.Id, device));
        }
        WaitFor(() => store.ReadState(Side.Backend) == XenbusState.InitWait, "backend InitWait");
        Assert.IsEmpty(RingTrace.Mappings(Environment.ProcessId, device));
        Assert.IsEmpty(RingTrace.Mappings(vtpm.Id, device));
        Assert.IsEmpty(RingTrace.Descriptors(vtpm.Id, device));
        Assert.IsEmpty(Directory.GetFiles(SharedRing.ShmDirectory, SharedRing.FilePrefix + device + "*"));
        Assert.IsFalse(Directory.Exists(store.SideDirectory(Side.Frontend)), "frontend keys left behind");
    }
}
