using Vtpm.Frontend;

namespace Vtpm.Tests.Tpmif;

/// <summary>The adaptive polling budget of both ring sides (see <c>AdaptiveSpin</c>).</summary>
[TestClass]
public sealed class TpmifSpinTests
{
    [TestMethod]
    public void MissesInARowHalveTheBudgetAndAHitRestoresIt()
    {
        var spin = new AdaptiveSpin(50);
        Assert.AreEqual(50, spin.CurrentMicroseconds);
        void Miss(int times)
        {
            for (int i = 0; i < times; i++)
            {
                _ = spin.Begin();
                spin.End(whileSpinning: false);
            }
        }
        // A miss now and then (a long command, a lost time slice) changes nothing.
        for (int round = 0; round < 10; round++)
        {
            Miss(AdaptiveSpin.MissesToHalve - 1);
            _ = spin.Begin();
            spin.End(whileSpinning: true);
            Assert.AreEqual(50, spin.CurrentMicroseconds);
        }
        foreach (int expected in new[] { 25, 12, 6, 3, 1, 0, 0 })
        {
            Miss(AdaptiveSpin.MissesToHalve);
            Assert.AreEqual(expected, spin.CurrentMicroseconds);
        }
        _ = spin.Begin();
        spin.End(whileSpinning: true);
        Assert.AreEqual(50, spin.CurrentMicroseconds);
    }

    [TestMethod]
    public void AtZeroEvery64thWaitProbesWithTheFullBudget()
    {
        var spin = new AdaptiveSpin(1_000_000); // 1 s: a probe is visible as a policy that still allows pausing
        for (int i = 0; i < 60; i++)
        {
            _ = spin.Begin();
            spin.End(whileSpinning: false);
        }
        Assert.AreEqual(0, spin.CurrentMicroseconds);
        int probes = 0;
        for (int i = 60; i < 60 + 128; i++)
        {
            if (spin.Begin().Pause()) probes++;
            spin.End(whileSpinning: false);
        }
        Assert.AreEqual(2, probes);
    }

    [TestMethod]
    public void ZeroMeansNeverSpin()
    {
        var spin = new AdaptiveSpin(0);
        for (int i = 0; i < 200; i++)
        {
            Assert.IsFalse(spin.Begin().Pause());
            spin.End(whileSpinning: false);
        }
    }
}
