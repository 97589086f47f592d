using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// A fake frontend (this test process) writes random lengths, states, page counts and page references into
/// the shared page of a real <c>vtpm --tpmback</c> (and random words into its doorbell page), also while the
/// backend is reading a request; the vtpm must
/// survive, disconnect the bad peer, and serve a well-behaved frontend afterwards.
/// </summary>
[TestClass]
public sealed class TpmifHostilePeerTests
{
    static readonly byte[] StartupClear = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
    static readonly byte[] GetRandom8 = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

    /// <summary>Doorbell page words (frontend/README.md): kick counters at 0/64/128/192, sleeper counts 4 bytes after each, the CPU hint at 256.</summary>
    static readonly int[] DoorbellWords = [0, 4, 64, 68, 128, 132, 192, 196, 256];

    static uint Rc(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    static bool WaitFor(Func<bool> condition, int ms)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > ms) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    [TestMethod]
    public unsafe void RandomSharedPageContentNeverCrashesVtpmAndAGoodFrontendIsServedAfterwards()
    {
        using var backend = RingBackend.InNewDirectory("tpmif-hostile-");
        var (vtpm, store) = (backend.Process, backend.Store);
        string Diagnostics() => $"vtpm output:\n{backend.Output()}";
        backend.ClaimFrontendSide();
        var rng = new Random(20261123);
        int connected = 0;
        for (int round = 0; round < 12; round++)
        {
            int pages = 1 + rng.Next(3);
            using var ring = SharedRing.Create(pages, $"{TpmServer.TpmfrontDevice}-h{round}");
            string reference = ring.Descriptor.ToString(CultureInfo.InvariantCulture);
            try
            {
                RingTrace.Offer(store, ring);
                if (!WaitFor(() => store.ReadState(Side.Backend) == XenbusState.Connected && store.Read(Side.Backend, "ready") == reference, 10_000))
                    Assert.Fail($"round {round}: backend did not connect\n" + Diagnostics());
                connected++;
                byte* page = ring.PagePointer(0);
                byte* doorbells = page + (long)pages * SharedRing.PageSize;
                long total = (long)pages * SharedRing.PageSize;
                if (round % 2 == 0)
                {
                    // Random header, page references and data, then a kick; repeatedly.
                    for (int i = 0; i < 300 && store.ReadState(Side.Backend) == XenbusState.Connected; i++)
                    {
                        var junk = new byte[8 + 4 * 16 + rng.Next(64)];
                        rng.NextBytes(junk);
                        if (rng.Next(3) == 0) junk[4] = (byte)TpmifState.Submit;
                        if (rng.Next(2) == 0) junk[6] = 0;
                        if (rng.Next(2) == 0) junk[7] = (byte)rng.Next(pages + 1);
                        if (rng.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(junk, (uint)rng.Next(SharedRing.Capacity(pages - 1) + 64));
                        junk.CopyTo(new Span<byte>(page, junk.Length));
                        // The doorbell page too: kick counters and the backend's sleeper counts.
                        if (rng.Next(6) == 0) *(uint*)(doorbells + DoorbellWords[rng.Next(DoorbellWords.Length)]) = (uint)rng.Next(int.MinValue, int.MaxValue);
                        ring.KickBackend();
                        if (rng.Next(8) == 0) ring.KickCancel();
                        Thread.SpinWait(rng.Next(2000));
                    }
                    // A sleeper count scribbled to 0 only stops our own kicks from waking the backend (it
                    // wakes by itself on its liveness timer). Claim sleepers, so this round's close is seen at once.
                    foreach (int w in DoorbellWords) if (w % 8 == 4) *(uint*)(doorbells + w) = 1000;
                }
                else
                {
                    // Well-formed submissions while a second thread rewrites the header under the backend.
                    using var stop = new CancellationTokenSource();
                    var scribbler = Task.Run(() =>
                    {
                        var r = new Random(round);
                        var b = new byte[8 + 4 * 16];
                        while (!stop.IsCancellationRequested)
                        {
                            r.NextBytes(b);
                            int at = r.Next(b.Length - 4);
                            b.AsSpan(at, 4).CopyTo(new Span<byte>(page + at, 4));
                            if (r.Next(4) == 0) new Span<byte>(page, (int)Math.Min(total, 256)).Fill((byte)r.Next(256));
                        }
                    });
                    for (int i = 0; i < 300 && store.ReadState(Side.Backend) == XenbusState.Connected; i++)
                    {
                        GetRandom8.CopyTo(new Span<byte>(page + 8, GetRandom8.Length));
                        ring.WriteRequestHeader((uint)GetRandom8.Length, 0, 0);
                        ring.SetState(TpmifState.Submit);
                        ring.KickBackend();
                        Thread.SpinWait(rng.Next(5000));
                    }
                    stop.Cancel();
                    scribbler.Wait();
                }
                Assert.IsFalse(vtpm.HasExited, $"round {round}: vtpm died\n" + Diagnostics());
            }
            finally
            {
                // Leave like a frontend that gives up: Closing, then back to Initialising for the next round.
                store.WriteState(Side.Frontend, XenbusState.Closing);
                store.Delete(Side.Frontend, "ring-ref");
                ring.KickControl();
                ring.KickBackend();
                Assert.IsTrue(WaitFor(() => store.ReadState(Side.Backend) == XenbusState.InitWait, 10_000), $"round {round}: backend did not return to InitWait\n" + Diagnostics());
                store.WriteState(Side.Frontend, XenbusState.Initialising);
            }
        }
        Assert.AreEqual(12, connected);
        Assert.IsFalse(vtpm.HasExited, Diagnostics());

        // The hostile frontend leaves; a good one connects and is served.
        backend.AssertServesAGoodFrontend();
        Assert.IsFalse(vtpm.HasExited);
        StringAssert.DoesNotMatch(Diagnostics(), new System.Text.RegularExpressions.Regex("Unhandled exception|Fatal error"));
        // The junk was noticed: bad headers, page references or lengths closed the connection.
        StringAssert.Contains(Diagnostics(), "closing the connection");
    }
}
