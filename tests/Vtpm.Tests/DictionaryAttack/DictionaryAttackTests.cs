using Vtpm.Tests.Clock;
using Vtpm.Tests.Nv;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.DictionaryAttack;

[TestClass]
public sealed class DictionaryAttackTests
{
    const uint Index = 0x01500020;

    static void Ok(Rsp r) => Assert.AreEqual(TpmRc.Success, r.Rc, r.ToString());

    /// <summary>A DA-protected index with authValue "pw", so password failures count.</summary>
    static Cmd DefineProtected(TpmaNv extra = TpmaNv.None) =>
        Nv.Nv.Define(Index, TpmaNv.AuthRead | TpmaNv.AuthWrite | TpmaNv.OwnerRead | extra, 8, "pw");

    static Cmd Write(string pw) => Cmd.Of(TpmCc.NvWrite).Handle(Index).Handle(Index).Password(pw).B2([1]).U16(0);

    static Cmd LockReset(string pw = "") => Cmd.Of(TpmCc.DictionaryAttackLockReset).Handle(TpmRh.Lockout).Password(pw);

    static uint Property(Vtpm.Tpm2.Dispatch.Tpm2Engine tpm, TpmPt pt)
    {
        Assert.IsTrue(tpm.DictionaryAttack.TryGetProperty(pt, out uint v));
        return v;
    }

    [TestMethod]
    public void DefaultsMatchTheReference()
    {
        // swtpm reports maxTries 3, recoveryTime 1000, lockoutRecovery 1000.
        var h = new EngineHost();
        Assert.AreEqual(3u, Property(h.Tpm, TpmPt.MaxAuthFail));
        Assert.AreEqual(1000u, Property(h.Tpm, TpmPt.LockoutInterval));
        Assert.AreEqual(1000u, Property(h.Tpm, TpmPt.LockoutRecovery));
        Assert.AreEqual(0u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void FailureOfProtectedEntityIsCounted()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Tss(Write("bad")).Rc);
        Assert.AreEqual(1u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void MaxTriesFailuresLockOutEvenTheRightPassword()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        for (int i = 0; i < 3; i++) h.Tss(Write("bad"));
        Assert.AreEqual(TpmRc.Lockout, h.Tss(Write("pw")).Rc);
        Assert.IsTrue(h.Tpm.DictionaryAttack.InLockout);
    }

    [TestMethod]
    public void NoDaEntityIsNotLockedOut()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected(TpmaNv.NoDa)));
        for (int i = 0; i < 4; i++) Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Tss(Write("bad")).Rc);
        Ok(h.Tss(Write("pw")));
    }

    [TestMethod]
    public void LockResetEndsLockout()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        for (int i = 0; i < 3; i++) h.Tss(Write("bad"));
        Ok(h.Send(LockReset()));
        Ok(h.Tss(Write("pw")));
    }

    [TestMethod]
    public void HierarchyAuthFailureIsNotCounted()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.HierarchyChangeAuth).Handle(TpmRh.Owner).Password().B2("o")));
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password("x").U8(0)).Rc);
        Assert.AreEqual(0u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void LockoutAuthFailureBlocksLockoutAuth()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.HierarchyChangeAuth).Handle(TpmRh.Lockout).Password().B2("l")));
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Send(LockReset("x")).Rc);
        Assert.AreEqual(TpmRc.Lockout, h.Send(LockReset("l")).Rc);
    }

    [TestMethod]
    public void LockoutAuthReturnsAfterLockoutRecovery()
    {
        var h = new ManualClockHost();
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Send(LockReset("x")).Rc);
        h.Advance(999_000);
        Assert.AreEqual(TpmRc.Lockout, h.Send(LockReset()).Rc);
        h.Advance(1_000);
        Ok(h.Send(LockReset()));
    }

    [TestMethod]
    public void LockoutRecoveryZeroWaitsForNextStartupEvenResume()
    {
        // swtpm re-enables lockoutAuth at any Startup when lockoutRecovery is 0.
        var h = new ManualClockHost();
        Ok(h.Send(Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password().U32(3).U32(1000).U32(0)));
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Send(LockReset("x")).Rc);
        h.Advance(10_000_000);
        Assert.AreEqual(TpmRc.Lockout, h.Send(LockReset()).Rc);
        h.Shutdown(TpmSu.State);
        h.Restart();
        h.Startup(TpmSu.State);
        Ok(h.Send(LockReset()));
    }

    [TestMethod]
    public void OneFailureHealsPerRecoveryTime()
    {
        var h = new ManualClockHost();
        Ok(h.Send(DefineProtected()));
        for (int i = 0; i < 3; i++) h.Tss(Write("bad"));
        h.Advance(1_000_000);
        Assert.AreEqual(2u, Property(h.Tpm, TpmPt.LockoutCounter));
        Ok(h.Tss(Write("pw")));
    }

    [TestMethod]
    public void ParametersAreSetAndResetTheCounter()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        h.Tss(Write("bad"));
        Ok(h.Send(Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password().U32(10).U32(20).U32(30)));
        Assert.AreEqual(10u, Property(h.Tpm, TpmPt.MaxAuthFail));
        Assert.AreEqual(20u, Property(h.Tpm, TpmPt.LockoutInterval));
        Assert.AreEqual(30u, Property(h.Tpm, TpmPt.LockoutRecovery));
        Assert.AreEqual(0u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void RecoveryTimeZeroDisablesCounting()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        Ok(h.Send(Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password().U32(3).U32(0).U32(0)));
        for (int i = 0; i < 4; i++) Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Tss(Write("bad")).Rc);
        Ok(h.Tss(Write("pw")));
    }

    [TestMethod]
    public void FailedTriesSurviveRestart()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        for (int i = 0; i < 3; i++) h.Tss(Write("bad"));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.AreEqual(TpmRc.Lockout, h.Tss(Write("pw")).Rc);
    }

    [TestMethod]
    public void DisorderlyShutdownAfterDaUseCountsAFailure()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        Ok(h.Tss(Write("pw")));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.AreEqual(1u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void OrderlyShutdownAfterDaUseCountsNothing()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        Ok(h.Tss(Write("pw")));
        Ok(h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear)));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.AreEqual(0u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void DisorderlyShutdownWithoutDaUseCountsNothing()
    {
        var h = new EngineHost();
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.AreEqual(0u, Property(h.Tpm, TpmPt.LockoutCounter));
    }

    [TestMethod]
    public void InLockoutShowsInPermanentProperty()
    {
        var h = new EngineHost();
        Ok(h.Send(DefineProtected()));
        for (int i = 0; i < 3; i++) h.Tss(Write("bad"));
        Assert.IsTrue(h.Tpm.Hierarchy.TryGetProperty(TpmPt.Permanent, out uint v));
        Assert.AreNotEqual(0u, v & 1u << 9);
    }

    [TestMethod]
    public void ClearRestoresDefaultParameters()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password().U32(10).U32(20).U32(30)));
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password()));
        Assert.AreEqual(3u, Property(h.Tpm, TpmPt.MaxAuthFail));
    }
}
