using System.Buffers.Binary;
using Vtpm.Frontend;

namespace Vtpm.Tests.Tpmif;

/// <summary>The tpmif ring library in one process: page layout, handshake, locality, extra pages, cancel, lifecycle.</summary>
[TestClass]
public sealed class TpmifRingTests
{
    /// <summary>Echoes each command back, remembering its locality; optionally blocks until cancelled.</summary>
    sealed class EchoDevice : ITpmifDevice
    {
        public byte LastLocality;
        public int Cancels;
        public ManualResetEventSlim? Block;
        public ManualResetEventSlim Entered { get; } = new(false);

        public int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response)
        {
            LastLocality = locality;
            Entered.Set();
            Block?.Wait(TimeSpan.FromSeconds(10));
            command.CopyTo(response);
            return command.Length;
        }

        public void Cancel()
        {
            Interlocked.Increment(ref Cancels);
            Block?.Set();
        }
    }

    sealed class Pair : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("tpmif-test-").FullName;
        public string Name { get; } = "t" + Guid.NewGuid().ToString("N")[..12];
        public RendezvousStore Store => new(Dir, Name);
        public EchoDevice Device { get; } = new();
        public TpmifBackend? Backend;
        public TpmifFrontend? Frontend;

        public TpmifBackend StartBackend()
        {
            Backend = new TpmifBackend(Store, Device);
            Backend.Start();
            return Backend;
        }

        public TpmifFrontend StartFrontend(int extraPages = 1)
        {
            Frontend = new TpmifFrontend(Store, extraPages: extraPages);
            Frontend.Start();
            return Frontend;
        }

        /// <summary>This device's ring mappings in this process (both sides run here).</summary>
        public string[] Mappings() => RingTrace.Mappings(Environment.ProcessId, Name);

        /// <summary>This process's open descriptors of this device's rings.</summary>
        public string[] Descriptors() => RingTrace.Descriptors(Environment.ProcessId, Name);

        public string[] ShmFiles() => Directory.GetFiles(SharedRing.ShmDirectory, $"{SharedRing.FilePrefix}{Name}-*");

        public void Dispose()
        {
            Frontend?.Dispose();
            Backend?.Dispose();
            Directory.Delete(Dir, recursive: true);
        }
    }

    static byte[] Command(int length, byte fill = 0x5A)
    {
        var c = new byte[length];
        c.AsSpan().Fill(fill);
        BinaryPrimitives.WriteUInt16BigEndian(c, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(2), (uint)length);
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(6), 0x17B);
        return c;
    }

    static uint Rc(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    static void WaitFor(Func<bool> condition, string what, int ms = 10_000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(ms);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    [TestMethod]
    public void SharedPageHeaderIsTpmifLayout()
    {
        using (var ring = SharedRing.Create(2, "layout-" + Guid.NewGuid().ToString("N")))
        {
            ring.WriteRequestHeader(0x01020304, locality: 3, extraPages: 1);
            ring.WritePageRef(0, 1);
            ring.SetState(TpmifState.Submit);
            var bytes = File.ReadAllBytes($"/proc/self/fd/{ring.Descriptor}");
            Assert.AreEqual(3 * SharedRing.PageSize, bytes.Length); // page 0, one extra page, the doorbell page
            // u32 length (native order), u8 state, u8 locality, u8 pad, u8 nr_extra_pages, u32 extra_pages[1].
            CollectionAssert.AreEqual(new byte[] { 4, 3, 2, 1, 1, 3, 0, 1, 1, 0, 0, 0 }, bytes[..12]);
            var h = ring.ReadHeader();
            Assert.AreEqual(0x01020304u, h.Length);
            Assert.AreEqual(TpmifState.Submit, h.State);
            Assert.AreEqual((byte)3, h.Locality);
            Assert.AreEqual((byte)1, h.ExtraPages);
        }
        Assert.AreEqual(4088, SharedRing.Capacity(0));
    }

    [TestMethod]
    public void EitherSideMayStartFirstAndTheCommandRoundTripsWithItsLocality()
    {
        using var p = new Pair();
        var front = p.StartFrontend();
        Thread.Sleep(200); // the frontend waits in Initialising for a backend
        Assert.IsFalse(front.IsConnected);
        var back = p.StartBackend();
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        Assert.AreEqual(back.Uuid, front.BackendUuid);
        var cmd = Command(12);
        CollectionAssert.AreEqual(cmd, front.Transact(cmd, locality: 3));
        Assert.AreEqual((byte)3, p.Device.LastLocality);
        // Once both sides have the ring mapped the frontend closes its descriptor: only the two mappings remain.
        Assert.IsEmpty(p.Descriptors());
        Assert.HasCount(2, p.Mappings());
        Assert.IsEmpty(p.ShmFiles());
        Assert.AreEqual("4", p.Store.Read(Side.Backend, "state"));
        Assert.AreEqual("4", p.Store.Read(Side.Frontend, "state"));
    }

    [TestMethod]
    public void CommandsLargerThanOnePageUseTheExtraPages()
    {
        using var p = new Pair();
        p.StartBackend();
        var front = p.StartFrontend(extraPages: 2);
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        var cmd = Command(9000);
        for (int i = 10; i < cmd.Length; i++) cmd[i] = (byte)i;
        CollectionAssert.AreEqual(cmd, front.Transact(cmd));
        Assert.AreEqual(0x142u, Rc(front.Transact(Command(front.Capacity + 1)))); // TPM_RC_COMMAND_SIZE, never sent
    }

    [TestMethod]
    public void TransactWritesTheResponseIntoTheCallersBufferAndAnswersSizeWhenItDoesNotFit()
    {
        using var p = new Pair();
        p.StartBackend();
        var front = p.StartFrontend();
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        var cmd = Command(100);
        var buffer = new byte[front.Capacity];
        Assert.AreEqual(100, front.Transact(cmd, buffer, locality: 2));
        CollectionAssert.AreEqual(cmd, buffer[..100]);
        Assert.AreEqual((byte)2, p.Device.LastLocality);
        // The echo does not fit a 50-byte buffer: TPM_RC_SIZE in its place, and the ring stays usable.
        var small = new byte[50];
        Assert.AreEqual(10, front.Transact(cmd, small));
        Assert.AreEqual(0x95u, Rc(small));
        Assert.AreEqual(100, front.Transact(cmd, buffer));
        Assert.ThrowsExactly<ArgumentException>(() => front.Transact(cmd, new byte[9]));
    }

    [TestMethod]
    public void WithoutBackendTheFrontendAnswersFailureAtOnce()
    {
        using var p = new Pair();
        var front = p.StartFrontend();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.AreEqual(0x101u, Rc(front.Transact(Command(10))));
        Assert.IsLessThan(1000, sw.ElapsedMilliseconds);
    }

    [TestMethod]
    public void CancelReachesTheDeviceWhileItExecutes()
    {
        using var p = new Pair();
        p.Device.Block = new ManualResetEventSlim(false);
        p.StartBackend();
        var front = p.StartFrontend();
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        var cmd = Command(10);
        var task = Task.Run(() => front.Transact(cmd));
        Assert.IsTrue(p.Device.Entered.Wait(TimeSpan.FromSeconds(10)));
        front.Cancel();
        Assert.IsTrue(task.Wait(TimeSpan.FromSeconds(10)), "the cancelled command never completed");
        Assert.AreEqual(1, p.Device.Cancels);
        // The backend finished the request (FINISH), as the protocol allows after a cancel.
        CollectionAssert.AreEqual(cmd, task.Result);
    }

    [TestMethod]
    public void CancelOfAnIdleRequestIsAcknowledgedWithIdle()
    {
        using var p = new Pair();
        p.StartBackend();
        var store = p.Store;
        store.Create(Side.Frontend);
        store.WriteOwner(Side.Frontend);
        using var ring = SharedRing.Create(1, p.Name + "-cancel");
        try
        {
            RingTrace.Offer(store, ring);
            WaitFor(() => store.ReadState(Side.Backend) == XenbusState.Connected, "backend Connected");
            ring.SetState(TpmifState.Cancel);
            ring.KickBackend();
            WaitFor(() => ring.State == TpmifState.Idle, "IDLE after CANCEL", 5000);
        }
        finally
        {
            store.WriteState(Side.Frontend, XenbusState.Closed);
        }
    }

    [TestMethod]
    public void FrontendAnswersFailureWhenTheBackendGoesAndReconnectsToTheNextOne()
    {
        using var p = new Pair();
        var back = p.StartBackend();
        var front = p.StartFrontend();
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        back.Dispose();
        WaitFor(() => !front.IsConnected, "the frontend to notice");
        Assert.AreEqual(0x101u, Rc(front.Transact(Command(10))));
        p.Backend = null;
        p.StartBackend();
        WaitFor(() => front.IsConnected, "the reconnection");
        Assert.AreEqual(2, front.Connections);
        var cmd = Command(11);
        CollectionAssert.AreEqual(cmd, front.Transact(cmd));
    }

    [TestMethod]
    public void BackendReturnsToInitWaitWhenTheFrontendClosesAndNothingStaysInShm()
    {
        using var p = new Pair();
        var back = p.StartBackend();
        var front = p.StartFrontend();
        Assert.IsTrue(front.WaitConnected(TimeSpan.FromSeconds(10)));
        front.Dispose();
        p.Frontend = null;
        WaitFor(() => back.State == XenbusState.InitWait, "backend InitWait");
        // Neither side keeps a mapping or a descriptor of the ring, and nothing was ever created in /dev/shm.
        Assert.IsEmpty(p.Mappings());
        Assert.IsEmpty(p.Descriptors());
        Assert.IsEmpty(p.ShmFiles());
        var again = p.StartFrontend();
        Assert.IsTrue(again.WaitConnected(TimeSpan.FromSeconds(10)));
        Assert.AreEqual(2, back.Connections);
    }
}
