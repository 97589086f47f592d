using Vtpm.Frontend;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// tpmback's serve thread moves off the CPU its frontend submits from (see <c>PeerCpuAvoidance</c>). Every case
/// runs on a thread of its own, so affinity changes never reach the test runner's threads.
/// </summary>
[TestClass]
public sealed unsafe class PeerCpuAvoidanceTests
{
    [TestMethod]
    public void TheServeThreadLeavesTheCpuTheFrontendRunsOn() => OnOwnThread(() =>
    {
        var before = Allowed();
        var avoidance = new PeerCpuAvoidance();
        PinTo(0);
        Assert.IsTrue(avoidance.AvoidPeer(0));
        Assert.AreNotEqual(0, Libc.SchedGetcpu());
        Assert.AreEqual(1, avoidance.Moves);
        Assert.AreEqual(0, avoidance.AvoidedCpu);
        // Moved, not pinned: the thread has the CPUs it had before (the scheduler stays free to place it).
        CollectionAssert.AreEqual(before, Allowed());
    });

    [TestMethod]
    public void AFrontendOnAnotherCpuChangesNothing() => OnOwnThread(() =>
    {
        var avoidance = new PeerCpuAvoidance();
        PinTo(0);
        Assert.IsFalse(avoidance.AvoidPeer(1));
        Assert.AreEqual(0, Libc.SchedGetcpu());
        CollectionAssert.AreEqual(new[] { 0 }, Allowed());
        Assert.AreEqual(0, avoidance.Moves);
    });

    [TestMethod]
    [DataRow(-1)]
    [DataRow(1024)]
    [DataRow(int.MaxValue)]
    [DataRow(int.MinValue)]
    public void CpuNumbersOutsideTheThreadsSetAreIgnored(int hostile) => OnOwnThread(() =>
    {
        var before = Allowed();
        var avoidance = new PeerCpuAvoidance();
        Assert.IsFalse(avoidance.AvoidPeer(hostile));
        CollectionAssert.AreEqual(before, Allowed());
        Assert.AreEqual(0, avoidance.Moves);
    });

    [TestMethod]
    public void AThreadAllowedOneCpuStaysWhereItIs() => OnOwnThread(() =>
    {
        PinTo(0);
        var avoidance = new PeerCpuAvoidance();
        Assert.IsFalse(avoidance.AvoidPeer(0));
        Assert.AreEqual(0, Libc.SchedGetcpu());
        CollectionAssert.AreEqual(new[] { 0 }, Allowed());
    });

    static void OnOwnThread(Action body)
    {
        if (!Allowed().Contains(0) || Allowed().Length < 2) Assert.Inconclusive("needs CPU 0 and one more CPU allowed");
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        t.Start();
        t.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    static void PinTo(int cpu)
    {
        var mask = new ulong[Libc.CpuSetWords];
        mask[cpu >> 6] = 1UL << (cpu & 63);
        fixed (ulong* m = mask) Assert.AreEqual(0, Libc.SchedSetaffinity(0, Libc.CpuSetWords * sizeof(ulong), m));
        Assert.AreEqual(cpu, Libc.SchedGetcpu());
    }

    static int[] Allowed()
    {
        var mask = new ulong[Libc.CpuSetWords];
        fixed (ulong* m = mask) Assert.AreEqual(0, Libc.SchedGetaffinity(0, Libc.CpuSetWords * sizeof(ulong), m));
        return Enumerable.Range(0, 1024).Where(c => (mask[c >> 6] & (1UL << (c & 63))) != 0).ToArray();
    }
}
