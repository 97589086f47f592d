using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Hierarchy;

[TestClass]
public sealed class HierarchyTests
{
    static void Ok(Rsp r) => Assert.AreEqual(TpmRc.Success, r.Rc, r.ToString());

    static Cmd ChangeAuth(TpmRh h, string newAuth, string current = "") => Cmd.Of(TpmCc.HierarchyChangeAuth).Handle(h).Password(current).B2(newAuth);

    static Cmd Control(TpmRh auth, TpmRh enable, bool state, string pw = "") => Cmd.Of(TpmCc.HierarchyControl).Handle(auth).Password(pw).U32((uint)enable).U8(state ? (byte)1 : (byte)0);

    /// <summary>A command that needs owner authorization and changes nothing else (ClockRateAdjust no change).</summary>
    static Cmd OwnerCommand(string pw = "") => Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password(pw).U8(0);

    static void Restart(EngineHost h, TpmSu shutdown, TpmSu startup)
    {
        Ok(h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)shutdown)));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)startup)));
    }

    [TestMethod]
    public void ChangedOwnerAuthIsRequired()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, "owner")));
        Ok(h.Send(OwnerCommand("owner")));
    }

    [TestMethod]
    public void OldOwnerAuthIsBadAuth()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, "owner")));
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(OwnerCommand()).Rc);
    }

    [TestMethod]
    public void NewAuthLongerThanLargestDigestIsSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(ChangeAuth(TpmRh.Owner, new string('x', 65))).Rc);
    }

    [TestMethod]
    public void NewAuthOfLargestDigestSizeIsAccepted()
    {
        // swtpm accepts a 64-byte ownerAuth.
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, new string('x', 64))));
    }

    [TestMethod]
    public void OwnerAuthSurvivesRestart()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, "owner")));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Ok(h.Send(OwnerCommand("owner")));
    }

    [TestMethod]
    public void PlatformAuthIsResetByStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Platform, "plat")));
        Restart(h, TpmSu.State, TpmSu.Clear);
        Ok(h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Platform).Password().U8(0)));
    }

    [TestMethod]
    public void PlatformAuthSurvivesResume()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Platform, "plat")));
        Restart(h, TpmSu.State, TpmSu.State);
        Ok(h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Platform).Password("plat").U8(0)));
    }

    [TestMethod]
    public void AuthSetBitsShowInPermanentProperty()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, "o")));
        Ok(h.Send(ChangeAuth(TpmRh.Lockout, "l")));
        Assert.IsTrue(h.Tpm.Hierarchy.TryGetProperty(TpmPt.Permanent, out uint v));
        Assert.AreEqual(0b101u | 1u << 10, v);
    }

    [TestMethod]
    public void DisabledOwnerHierarchyIsHierarchyOnHandle()
    {
        var h = new EngineHost();
        Ok(h.Send(Control(TpmRh.Owner, TpmRh.Owner, false)));
        Assert.AreEqual(TpmRc.Hierarchy.ForHandle(1), h.Send(OwnerCommand()).Rc);
    }

    [TestMethod]
    public void PlatformReenablesOwnerHierarchy()
    {
        var h = new EngineHost();
        Ok(h.Send(Control(TpmRh.Owner, TpmRh.Owner, false)));
        Ok(h.Send(Control(TpmRh.Platform, TpmRh.Owner, true)));
        Ok(h.Send(OwnerCommand()));
    }

    [TestMethod]
    public void OwnerCannotDisableEndorsement()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.AuthType, h.Send(Control(TpmRh.Owner, TpmRh.Endorsement, false)).Rc);
    }

    [TestMethod]
    public void OwnerCannotTouchPlatformNv()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.AuthType, h.Send(Control(TpmRh.Owner, TpmRh.PlatformNv, false)).Rc);
    }

    [TestMethod]
    public void EnableOutsideTpmiRhEnablesIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Control(TpmRh.Platform, TpmRh.Lockout, false)).Rc);
    }

    [TestMethod]
    public void ShEnableIsSetAgainByStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Control(TpmRh.Owner, TpmRh.Owner, false)));
        Restart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Send(OwnerCommand()));
    }

    [TestMethod]
    public void ShEnableStaysClearAcrossResume()
    {
        var h = new EngineHost();
        Ok(h.Send(Control(TpmRh.Owner, TpmRh.Owner, false)));
        Restart(h, TpmSu.State, TpmSu.State);
        Assert.AreEqual(TpmRc.Hierarchy.ForHandle(1), h.Send(OwnerCommand()).Rc);
    }

    [TestMethod]
    public void StartupClearPropertyReportsDisabledEndorsement()
    {
        var h = new EngineHost();
        Ok(h.Send(Control(TpmRh.Endorsement, TpmRh.Endorsement, false)));
        Assert.IsTrue(h.Tpm.Hierarchy.TryGetProperty(TpmPt.StartupClear, out uint v));
        Assert.AreEqual(0b1011u, v & 0xF);
    }

    [TestMethod]
    public void ClearEmptiesOwnerAuth()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Owner, "owner")));
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password()));
        Ok(h.Send(OwnerCommand()));
    }

    [TestMethod]
    public void ClearChangesStorageSeedAndKeepsEndorsementSeed()
    {
        var h = new EngineHost();
        var sps = h.Tpm.Hierarchy.StorageSeed.ToArray();
        var eps = h.Tpm.Hierarchy.EndorsementSeed.ToArray();
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password()));
        CollectionAssert.AreNotEqual(sps, h.Tpm.Hierarchy.StorageSeed.ToArray());
        CollectionAssert.AreEqual(eps, h.Tpm.Hierarchy.EndorsementSeed.ToArray());
    }

    [TestMethod]
    public void ClearWithDisableClearIsDisabled()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(1)));
        Assert.AreEqual(TpmRc.Disabled, h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password()).Rc);
    }

    [TestMethod]
    public void LockoutCannotClearDisableClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(1)));
        Assert.AreEqual(TpmRc.AuthFail, h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(0)).Rc);
    }

    [TestMethod]
    public void PlatformClearsDisableClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(1)));
        Ok(h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Platform).Password().U8(0)));
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Platform).Password()));
    }

    [TestMethod]
    public void DisableClearSurvivesRestart()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(1)));
        Restart(h, TpmSu.Clear, TpmSu.Clear);
        Assert.AreEqual(TpmRc.Disabled, h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password()).Rc);
    }

    [TestMethod]
    public void SetPrimaryPolicyOfWrongSizeIsSize()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Owner).Password().B2(new byte[20]).U16((ushort)TpmAlgId.Sha256));
        Assert.AreEqual(TpmRc.Size.ForParameter(1), r.Rc);
    }

    [TestMethod]
    public void SetPrimaryPolicyWithUnknownHashIsHash()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Owner).Password().B2(new byte[32]).U16(0x0099));
        Assert.AreEqual(TpmRc.Hash.ForParameter(2), r.Rc);
    }

    [TestMethod]
    public void SetPrimaryPolicyIsStoredWithItsAlgorithm()
    {
        var h = new EngineHost();
        var policy = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        Ok(h.Send(Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Endorsement).Password().B2(policy).U16((ushort)TpmAlgId.Sha256)));
        Assert.IsTrue(h.Tpm.TryGetEntity((uint)TpmRh.Endorsement, out var e));
        CollectionAssert.AreEqual(policy, e.AuthPolicy);
        Assert.AreEqual(TpmAlgId.Sha256, e.PolicyAlg);
    }

    [TestMethod]
    public void NullProofChangesOnTpmResetOnly()
    {
        var h = new EngineHost();
        var p0 = h.Tpm.Hierarchy.GetProof((uint)TpmRh.Null).ToArray();
        Restart(h, TpmSu.State, TpmSu.Clear);
        CollectionAssert.AreEqual(p0, h.Tpm.Hierarchy.GetProof((uint)TpmRh.Null));
        Restart(h, TpmSu.Clear, TpmSu.Clear);
        CollectionAssert.AreNotEqual(p0, h.Tpm.Hierarchy.GetProof((uint)TpmRh.Null));
    }

    [TestMethod]
    public void OwnerProofSurvivesTpmReset()
    {
        var h = new EngineHost();
        var p0 = h.Tpm.Hierarchy.GetProof((uint)TpmRh.Owner).ToArray();
        Restart(h, TpmSu.Clear, TpmSu.Clear);
        CollectionAssert.AreEqual(p0, h.Tpm.Hierarchy.GetProof((uint)TpmRh.Owner));
    }

    [TestMethod]
    public void ChangeEpsNewSeedAndEmptyEndorsementAuth()
    {
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Endorsement, "e")));
        var eps = h.Tpm.Hierarchy.EndorsementSeed.ToArray();
        Ok(h.Send(Cmd.Of(TpmCc.ChangeEPS).Handle(TpmRh.Platform).Password()));
        CollectionAssert.AreNotEqual(eps, h.Tpm.Hierarchy.EndorsementSeed.ToArray());
        Assert.AreEqual(0, h.Tpm.Hierarchy.EndorsementAuth.Length);
    }

    [TestMethod]
    public void ChangePpsNewSeed()
    {
        var h = new EngineHost();
        var pps = h.Tpm.Hierarchy.PlatformSeed.ToArray();
        Ok(h.Send(Cmd.Of(TpmCc.ChangePPS).Handle(TpmRh.Platform).Password()));
        CollectionAssert.AreNotEqual(pps, h.Tpm.Hierarchy.PlatformSeed.ToArray());
    }

    [TestMethod]
    public void ChangePpsNeedsPlatformHandle()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForHandle(1), h.Send(Cmd.Of(TpmCc.ChangePPS).Handle(TpmRh.Owner).Password()).Rc);
    }

    [TestMethod]
    public void FirstStartupOfNewTpmIsOrderly()
    {
        // swtpm reports orderly 1 after its first Startup(CLEAR).
        var h = new EngineHost();
        Assert.IsTrue(h.Tpm.Hierarchy.TryGetProperty(TpmPt.StartupClear, out uint v));
        Assert.AreEqual(0x8000000Fu, v);
    }

    [TestMethod]
    public void StartupAfterPowerLossIsNotOrderly()
    {
        var h = new EngineHost();
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.IsTrue(h.Tpm.Hierarchy.TryGetProperty(TpmPt.StartupClear, out uint v));
        Assert.AreEqual(0u, v & 0x80000000u);
    }

    [TestMethod]
    public void PlatformAuthAndEnablesSurviveStoreVolatile()
    {
        // swtpm CMD_STORE_VOLATILE then CMD_INIT: the TPM continues as if it had never stopped.
        var h = new EngineHost();
        Ok(h.Send(ChangeAuth(TpmRh.Platform, "plat")));
        Ok(h.Send(Control(TpmRh.Owner, TpmRh.Owner, false)));
        h.Tpm.StoreVolatile();
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Platform).Password("plat").U8(0)));
        Assert.AreEqual(TpmRc.Hierarchy.ForHandle(1), h.Send(OwnerCommand()).Rc);
    }
}
