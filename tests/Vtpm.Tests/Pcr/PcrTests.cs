using System.Security.Cryptography;
using System.Text;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Pcr.PcrHelpers;

namespace Vtpm.Tests.Pcr;

[TestClass]
public sealed class PcrTests
{
    static readonly byte[] D1 = SHA256.HashData(Encoding.ASCII.GetBytes("one"));
    static readonly byte[] D2 = SHA256.HashData(Encoding.ASCII.GetBytes("two"));

    [TestMethod]
    public void ExtendChainMatchesIndependentSha256Computation()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Extend(10, TpmAlgId.Sha256, D1)).Rc);
        Assert.AreEqual(TpmRc.Success, h.Send(Extend(10, TpmAlgId.Sha256, D2)).Rc);
        var expected = Sha256Extend(Sha256Extend(new byte[32], D1), D2);
        CollectionAssert.AreEqual(expected, Read(h, TpmAlgId.Sha256, 10));
    }

    [TestMethod]
    public void ExtendIntoInactiveBankIsIgnored()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Extend(10, TpmAlgId.Sha384, new byte[48])).Rc);
        Assert.IsNull(Read(h, TpmAlgId.Sha384, 10));
    }

    [TestMethod]
    public void ExtendWithUnimplementedAlgorithmIsHashParameter1()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrExtend).Handle(10).Password().U32(1).U16(0x0005).Bytes(new byte[32]);
        Assert.AreEqual(TpmRc.Hash.ForParameter(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void ExtendWithMoreThanHashCountDigestsIsSizeParameter1()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrExtend).Handle(10).Password().U32(5);
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void ExtendOfPcr17AtLocality0IsLocality()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Locality, h.Send(Extend(17, TpmAlgId.Sha256, D1), locality: 0).Rc);
    }

    [TestMethod]
    public void ExtendOfPcr17AtLocality4StartsFromAllOnes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Extend(17, TpmAlgId.Sha256, D1), locality: 4).Rc);
        CollectionAssert.AreEqual(Sha256Extend(Ones(32), D1), Read(h, TpmAlgId.Sha256, 17));
    }

    [TestMethod]
    public void ExtendOfNullHandleChangesNothing()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Extend((uint)TpmRh.Null, TpmAlgId.Sha256, D1)).Rc);
        Assert.AreEqual(AfterReset, Counter(h));
    }

    /// <summary>libtpms counts the 20 PCRs a TPM Reset initialises outside the no-increment group (16, 21–23).</summary>
    const uint AfterReset = 20;

    static uint Counter(EngineHost h) => ParseRead(h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 0)).Parameters).UpdateCounter;

    [TestMethod]
    public void UpdateCounterAfterResumeCountsTheFourReinitialisedPcrs()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State));
        h.Restart();
        h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State));
        Assert.AreEqual(AfterReset + 1 + 4, Counter(h));
    }

    [TestMethod]
    public void UpdateCounterSurvivesRestartAndCountsTwentyMore()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State));
        h.Restart();
        h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear));
        Assert.AreEqual(AfterReset + 1 + 20, Counter(h));
    }

    [TestMethod]
    public void TpmResetStartsTheUpdateCounterAgain()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear));
        h.Restart();
        h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear));
        Assert.AreEqual(AfterReset, Counter(h));
    }

    [TestMethod]
    public void DrtmPcrsStartAtAllOnesAndOthersAtZero()
    {
        var h = new EngineHost();
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 0));
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 16));
        for (int p = 17; p <= 22; p++) CollectionAssert.AreEqual(Ones(32), Read(h, TpmAlgId.Sha256, p));
        CollectionAssert.AreEqual(new byte[20], Read(h, TpmAlgId.Sha1, 23));
    }

    [TestMethod]
    public void StartupAtLocality3LeavesPcr0EndingIn03()
    {
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear), locality: 3).Rc);
        var expected = new byte[32];
        expected[31] = 3;
        CollectionAssert.AreEqual(expected, Read(h, TpmAlgId.Sha256, 0));
    }

    [TestMethod]
    public void ReadReturnsAtMostEightDigestsAndSaysWhich()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, [.. Enumerable.Range(0, 24)]));
        var d = ParseRead(r.Parameters);
        Assert.HasCount(8, d.Digests);
        Assert.AreEqual(0xFFu, d.Selections[0].Mask);
    }

    [TestMethod]
    public void ReadWithSizeofSelectBelowMinimumIsValueParameter1()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrRead).U32(1).U16((ushort)TpmAlgId.Sha256).U8(2).U16(0xFFFF);
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void UpdateCounterIncrementsOnExtend()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Extend(6, TpmAlgId.Sha1, new byte[20]));
        Assert.AreEqual(AfterReset + 2, ParseRead(h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 0)).Parameters).UpdateCounter);
    }

    [TestMethod]
    public void UpdateCounterIgnoresPcr16()
    {
        var h = new EngineHost();
        h.Send(Extend(16, TpmAlgId.Sha256, D1));
        Assert.AreEqual(AfterReset, ParseRead(h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 0)).Parameters).UpdateCounter);
    }

    [TestMethod]
    public void ResetOfPcr16AtLocality0ZeroesIt()
    {
        var h = new EngineHost();
        h.Send(Extend(16, TpmAlgId.Sha256, D1));
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.PcrReset).Handle(16).Password()).Rc);
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 16));
    }

    [TestMethod]
    [DataRow(0u, (byte)0)]
    [DataRow(16u, (byte)4)]
    [DataRow(17u, (byte)0)]
    [DataRow(21u, (byte)1)]
    public void ResetNotAllowedAtLocalityIsLocality(uint pcr, byte locality)
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Locality, h.Send(Cmd.Of(TpmCc.PcrReset).Handle(pcr).Password(), locality).Rc);
    }

    [TestMethod]
    public void ResetOfPcr17AtLocality4ZeroesIt()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.PcrReset).Handle(17).Password(), locality: 4).Rc);
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 17));
    }

    [TestMethod]
    public void ResumeRestoresPcr0To15AndResetsPcr16()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Extend(16, TpmAlgId.Sha256, D1));
        var pcr5 = Read(h, TpmAlgId.Sha256, 5);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State)).Rc);
        h.Restart();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
        CollectionAssert.AreEqual(pcr5, Read(h, TpmAlgId.Sha256, 5));
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 16));
    }

    [TestMethod]
    public void StartupClearAfterShutdownStateResetsPcrs()
    {
        var h = new EngineHost();
        h.Send(Extend(5, TpmAlgId.Sha256, D1));
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State));
        h.Restart();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        CollectionAssert.AreEqual(new byte[32], Read(h, TpmAlgId.Sha256, 5));
    }

    static Cmd Allocate(params (TpmAlgId Alg, uint Mask)[] banks)
    {
        var c = Cmd.Of(TpmCc.PcrAllocate).Handle(TpmRh.Platform).Password().U32((uint)banks.Length);
        foreach (var (alg, mask) in banks) c.U16((ushort)alg).U8(3).U8((byte)mask).U8((byte)(mask >> 8)).U8((byte)(mask >> 16));
        return c;
    }

    [TestMethod]
    public void AllocateReturnsSuccessMaxPcrAndSizes()
    {
        var h = new EngineHost();
        var r = h.Send(Allocate((TpmAlgId.Sha384, 0xFFFFFF)));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        int o = 1;
        Assert.AreEqual(1, p[0]);
        Assert.AreEqual(24u, U32(p, ref o));
        Assert.AreEqual(24u * (20 + 32 + 48), U32(p, ref o));
        Assert.AreEqual(24u * (20 + 32 + 48 + 64), U32(p, ref o));
    }

    [TestMethod]
    public void AllocationTakesEffectOnlyAtTheNextReset()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Allocate((TpmAlgId.Sha384, 0xFFFFFF), (TpmAlgId.Sha1, 0))).Rc);
        Assert.IsNull(Read(h, TpmAlgId.Sha384, 0));
        Assert.IsNotNull(Read(h, TpmAlgId.Sha1, 0));
        Assert.IsTrue(h.Tpm.Pcr.AllocationPending);
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear));
        h.Restart();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        CollectionAssert.AreEqual(new byte[48], Read(h, TpmAlgId.Sha384, 0));
        Assert.IsNull(Read(h, TpmAlgId.Sha1, 0));
        Assert.IsFalse(h.Tpm.Pcr.AllocationPending);
    }

    [TestMethod]
    public void PcrsCapabilityShowsANewAllocationOnlyAfterTheReset()
    {
        var h = new EngineHost();
        h.Send(Allocate((TpmAlgId.Sha384, 0xFFFFFF)));
        var before = h.Send(Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.Pcrs).U32(0).U32(1)).Parameters;
        CollectionAssert.AreEqual(Convert.FromHexString("000000000500000004000403ffffff000b03ffffff000c03000000000d03000000"), before);
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear));
        h.Restart();
        h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear));
        var after = h.Send(Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.Pcrs).U32(0).U32(1)).Parameters;
        CollectionAssert.AreEqual(Convert.FromHexString("000000000500000004000403ffffff000b03ffffff000c03ffffff000d03000000"), after);
    }

    [TestMethod]
    public void AllocationListingABankTwiceUsesTheLastEntry()
    {
        var h = new EngineHost();
        var r = h.Send(Allocate((TpmAlgId.Sha256, 0xFFFFFF), (TpmAlgId.Sha256, 0x00FFFF)));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        int o = 5;
        Assert.AreEqual(24u * 20 + 16u * 32, U32(r.Parameters, ref o));
    }

    [TestMethod]
    public void AllocationWithSizeofSelectAboveMaximumIsValueParameter1()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrAllocate).Handle(TpmRh.Platform).Password().U32(1).U16((ushort)TpmAlgId.Sha256).U8(4).U32(0xFFFFFFFF);
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void EventReturnsAndExtendsDigestsOfActiveBanks()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.PcrEvent).Handle(16).Password().B2("abc"));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        int o = 0;
        var list = ParseDigestValues(r.Parameters, ref o);
        Assert.HasCount(2, list);
        Assert.AreEqual((ushort)TpmAlgId.Sha1, list[0].Alg);
        CollectionAssert.AreEqual(SHA1.HashData("abc"u8), list[0].Digest);
        CollectionAssert.AreEqual(SHA256.HashData("abc"u8), list[1].Digest);
        CollectionAssert.AreEqual(Sha256Extend(new byte[32], SHA256.HashData("abc"u8)), Read(h, TpmAlgId.Sha256, 16));
    }

    [TestMethod]
    public void EventDataLargerThan1024IsSizeParameter1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(Cmd.Of(TpmCc.PcrEvent).Handle(16).Password().B2(new byte[1025])).Rc);
    }

    [TestMethod]
    public void PcrAuthValueSetOnPcr20IsRequiredToExtendIt()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.PcrSetAuthValue).Handle(20).Password().B2("pw"), locality: 1).Rc);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(Extend(20, TpmAlgId.Sha256, D1), locality: 1).Rc);
        Assert.AreEqual(TpmRc.Success, h.Send(Extend(20, TpmAlgId.Sha256, D1, "pw"), locality: 1).Rc);
    }

    [TestMethod]
    public void SetAuthValueOnPcrOutsideAuthGroupIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value, h.Send(Cmd.Of(TpmCc.PcrSetAuthValue).Handle(5).Password().B2("pw")).Rc);
    }

    [TestMethod]
    public void SetAuthPolicyWithDigestOfWrongSizeIsSizeParameter1()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrSetAuthPolicy).Handle(TpmRh.Platform).Password().B2(new byte[20]).U16((ushort)TpmAlgId.Sha256).U32(20);
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void SetAuthPolicyOnPcrOutsidePolicyGroupIsValueParameter3()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.PcrSetAuthPolicy).Handle(TpmRh.Platform).Password().B2(new byte[32]).U16((ushort)TpmAlgId.Sha256).U32(3);
        Assert.AreEqual(TpmRc.Value.ForParameter(3), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void PcrPolicySurvivesProcessRestart()
    {
        var h = new EngineHost();
        var policy = SHA256.HashData("policy"u8);
        var cmd = Cmd.Of(TpmCc.PcrSetAuthPolicy).Handle(TpmRh.Platform).Password().B2(policy).U16((ushort)TpmAlgId.Sha256).U32(21);
        Assert.AreEqual(TpmRc.Success, h.Send(cmd).Rc);
        h.Restart();
        Assert.IsTrue(h.Tpm.TryGetEntity(22, out var e));
        CollectionAssert.AreEqual(policy, e.AuthPolicy);
        Assert.AreEqual(TpmAlgId.Sha256, e.PolicyAlg);
    }

    [TestMethod]
    public void VolatileImageCarriesPcrValuesToAnotherInstance()
    {
        var h = new EngineHost();
        h.Send(Extend(16, TpmAlgId.Sha256, D1));
        var blob = h.Tpm.SerializeVolatile();
        var other = new EngineHost();
        other.Tpm.RestoreVolatile(blob);
        CollectionAssert.AreEqual(Read(h, TpmAlgId.Sha256, 16), Read(other, TpmAlgId.Sha256, 16));
    }
}
