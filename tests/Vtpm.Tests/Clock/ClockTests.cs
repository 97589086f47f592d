using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Clock;

[TestClass]
public sealed class ClockTests
{
    static void Ok(Rsp r) => Assert.AreEqual(TpmRc.Success, r.Rc, r.ToString());

    readonly record struct TimeInfo(ulong Time, ulong Clock, uint ResetCount, uint RestartCount, bool Safe);

    static TimeInfo Read(Func<Cmd, Rsp> send)
    {
        var r = send(Cmd.Of(TpmCc.ReadClock));
        Ok(r);
        var p = r.Parameters;
        Assert.AreEqual(25, p.Length);
        return new TimeInfo(BinaryPrimitives.ReadUInt64BigEndian(p), BinaryPrimitives.ReadUInt64BigEndian(p.AsSpan(8)),
            BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(16)), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(20)), p[24] == 1);
    }

    static Cmd ClockSet(ulong t, TpmRh auth = TpmRh.Owner) => Cmd.Of(TpmCc.ClockSet).Handle(auth).Password().U64(t);

    [TestMethod]
    public void FirstStartupIsResetOne()
    {
        // swtpm after manufacture and Startup(CLEAR): reset_count 1, restart_count 0, safe yes.
        var h = new EngineHost();
        var t = Read(c => h.Send(c));
        Assert.AreEqual(1u, t.ResetCount);
        Assert.AreEqual(0u, t.RestartCount);
        Assert.IsTrue(t.Safe);
    }

    [TestMethod]
    public void ClockAdvancesWithPlatformTime()
    {
        var h = new ManualClockHost();
        h.Advance(1234);
        var t = Read(c => h.Send(c));
        Assert.AreEqual(1234UL, t.Clock);
        Assert.AreEqual(1234UL, t.Time);
    }

    [TestMethod]
    public void ClockSetMovesClockForward()
    {
        var h = new ManualClockHost();
        Ok(h.Send(ClockSet(100_000)));
        h.Advance(5);
        Assert.AreEqual(100_005UL, Read(c => h.Send(c)).Clock);
    }

    [TestMethod]
    public void ClockSetBackwardsIsValue()
    {
        // swtpm answers 0x1C4 for tpm2_setclock below the current clock.
        var h = new ManualClockHost();
        h.Advance(10);
        Assert.AreEqual(new TpmRc(0x1C4), h.Send(ClockSet(5)).Rc);
    }

    [TestMethod]
    public void ClockSetAboveMaximumIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(ClockSet(0xFFFF_0000_0000_0001UL)).Rc);
    }

    [TestMethod]
    public void ClockSetWithPlatformAuthIsAllowed()
    {
        var h = new EngineHost();
        Ok(h.Send(ClockSet(1UL << 40, TpmRh.Platform)));
    }

    [TestMethod]
    public void ClockSetWithEndorsementIsValueOnHandle()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForHandle(1), h.Send(ClockSet(1, TpmRh.Endorsement)).Rc);
    }

    [TestMethod]
    public void RateAdjustOutOfRangeIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(4)).Rc);
    }

    [TestMethod]
    public void CoarseFasterMakesClockRunFaster()
    {
        var h = new ManualClockHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(3)));
        var before = Read(c => h.Send(c)).Clock;
        h.Advance(100_000);
        Assert.IsTrue(Read(c => h.Send(c)).Clock - before > 100_000);
    }

    [TestMethod]
    public void CoarseSlowerMakesClockRunSlower()
    {
        var h = new ManualClockHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(unchecked((byte)-3))));
        var before = Read(c => h.Send(c)).Clock;
        h.Advance(100_000);
        Assert.IsTrue(Read(c => h.Send(c)).Clock - before < 100_000);
    }

    [TestMethod]
    public void ResumeIncrementsRestartCount()
    {
        var h = new ManualClockHost();
        h.Shutdown(TpmSu.State);
        h.Restart();
        h.Startup(TpmSu.State);
        var t = Read(c => h.Send(c));
        Assert.AreEqual(1u, t.ResetCount);
        Assert.AreEqual(1u, t.RestartCount);
    }

    [TestMethod]
    public void ResetIncrementsResetCountAndZeroesRestartCount()
    {
        var h = new ManualClockHost();
        h.Shutdown(TpmSu.State);
        h.Restart();
        h.Startup(TpmSu.Clear);
        h.Shutdown(TpmSu.Clear);
        h.Restart();
        h.Startup(TpmSu.Clear);
        var t = Read(c => h.Send(c));
        Assert.AreEqual(2u, t.ResetCount);
        Assert.AreEqual(0u, t.RestartCount);
    }

    [TestMethod]
    public void ClockResumesAfterOrderlyShutdown()
    {
        var h = new ManualClockHost();
        h.Advance(50_000);
        h.Shutdown(TpmSu.Clear);
        h.Restart();
        h.Startup(TpmSu.Clear);
        h.Advance(10);
        var t = Read(c => h.Send(c));
        Assert.AreEqual(50_010UL, t.Clock);
        Assert.IsTrue(t.Safe);
    }

    [TestMethod]
    public void DisorderlyRestartGoesBackToSavedClockAndClearsSafe()
    {
        var h = new ManualClockHost();
        h.Advance(50_000);
        h.Restart();
        h.Startup(TpmSu.Clear);
        var t = Read(c => h.Send(c));
        Assert.AreEqual(0UL, t.Clock);
        Assert.IsFalse(t.Safe);
    }

    [TestMethod]
    public void CrossingTheUpdateIntervalPersistsClockAndSetsSafe()
    {
        var h = new ManualClockHost();
        h.Restart();
        h.Startup(TpmSu.Clear);
        h.Advance(ClockSubsystem.UpdateInterval + 5);
        Assert.IsTrue(Read(c => h.Send(c)).Safe);
        h.Restart();
        h.Startup(TpmSu.Clear);
        Assert.AreEqual(ClockSubsystem.UpdateInterval + 5, Read(c => h.Send(c)).Clock);
    }

    [TestMethod]
    public void ClearZeroesClockAndCounts()
    {
        var h = new ManualClockHost();
        h.Advance(5000);
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Platform).Password()));
        var t = Read(c => h.Send(c));
        Assert.AreEqual(0UL, t.Clock);
        Assert.AreEqual(0u, t.ResetCount);
    }

    [TestMethod]
    public void CountsAndSafeFollowSwtpmAcrossResumeRestartResetAndPowerLoss()
    {
        // swtpm 0.7.1 for the same sequence: (reset, restart, safe) = (1,0,1) (1,1,1) (1,2,1) (2,0,1) (3,0,0).
        var h = new ManualClockHost();
        var seen = new List<(uint, uint, bool)>();
        void Record() { var t = Read(c => h.Send(c)); seen.Add((t.ResetCount, t.RestartCount, t.Safe)); }
        Record();
        h.Shutdown(TpmSu.State); h.Restart(); h.Startup(TpmSu.State); Record();
        h.Shutdown(TpmSu.State); h.Restart(); h.Startup(TpmSu.Clear); Record();
        h.Shutdown(TpmSu.Clear); h.Restart(); h.Startup(TpmSu.Clear); Record();
        h.Restart(); h.Startup(TpmSu.Clear); Record();
        CollectionAssert.AreEqual(new[] { (1u, 0u, true), (1u, 1u, true), (1u, 2u, true), (2u, 0u, true), (3u, 0u, false) }, seen);
    }
}
