using Vtpm.Tests.Support;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Nv;

[TestClass]
public sealed class NvAccessTests
{
    [TestMethod]
    public void WriteThenReadReturnsData()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Ok(h.Send(Write([1, 2, 3], 2)));
        // Unwritten bytes read as 0xFF, as swtpm.
        CollectionAssert.AreEqual(new byte[] { 0xFF, 0xFF, 1, 2, 3, 0xFF, 0xFF, 0xFF }, Data(h.Send(Read(8))));
    }

    [TestMethod]
    public void ReadBeforeWriteIsNvUninitialized()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Assert.AreEqual(TpmRc.NvUninitialized, h.Send(Read(8)).Rc);
    }

    [TestMethod]
    public void WriteBeyondEndIsNvRange()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Assert.AreEqual(TpmRc.NvRange, h.Send(Write(new byte[4], 5)).Rc);
    }

    [TestMethod]
    public void WriteOffsetBeyondSizeIsValueOnParameter2()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Assert.AreEqual(TpmRc.Value.ForParameter(2), h.Send(Write([1], 9)).Rc);
    }

    [TestMethod]
    public void PartialWriteOfWriteAllIndexIsNvRange()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteAll, 8)));
        Assert.AreEqual(TpmRc.NvRange, h.Send(Write([1, 2])).Rc);
    }

    [TestMethod]
    public void WriteLargerThanBufferMaxIsSizeOnParameter1()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 2048)));
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(Write(new byte[NvSubsystem.BufferMax + 1])).Rc);
    }

    [TestMethod]
    public void ReadLargerThanBufferMaxIsValueOnParameter1()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 2048)));
        Ok(h.Send(Write([1])));
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Read(NvSubsystem.BufferMax + 1)).Rc);
    }

    [TestMethod]
    public void ReadBeyondEndIsNvRange()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Ok(h.Send(Write([1])));
        Assert.AreEqual(TpmRc.NvRange, h.Send(Read(4, 6)).Rc);
    }

    [TestMethod]
    public void OwnerWriteWithoutOwnerWriteIsNvAuthorization()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(TpmaNv.OwnerRead | TpmaNv.AuthWrite, 8)));
        Assert.AreEqual(TpmRc.NvAuthorization, h.Send(Write([1])).Rc);
    }

    [TestMethod]
    public void IndexAuthorizesItsOwnReadAndWrite()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw, 4, "secret")));
        Ok(h.Tss(Write([9, 9], auth: TestIndex, password: "secret")));
        CollectionAssert.AreEqual(new byte[] { 9, 9 }, Data(h.Send(Read(2, auth: TestIndex, password: "secret"))));
    }

    [TestMethod]
    public void WrongIndexPasswordIsAuthFailOnSession1()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw, 4, "secret")));
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), h.Tss(Write([1], auth: TestIndex, password: "wrong")).Rc);
    }

    [TestMethod]
    public void WrongPasswordOfNoDaIndexIsBadAuth()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw | TpmaNv.NoDa, 4, "secret")));
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(Write([1], auth: TestIndex, password: "wrong")).Rc);
    }

    [TestMethod]
    public void OwnerReadOfAuthReadIndexIsNvAuthorization()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw | TpmaNv.OwnerWrite, 4)));
        Ok(h.Send(Write([1])));
        Assert.AreEqual(TpmRc.NvAuthorization, h.Send(Read(1)).Rc);
    }

    [TestMethod]
    public void UnknownIndexIsHandleError()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Handle.ForHandle(2), h.Send(Read(1)).Rc);
    }

    [TestMethod]
    public void CounterStartsAtOneAndIncrements()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        Ok(h.Send(Increment()));
        Ok(h.Send(Increment()));
        Assert.AreEqual(2UL, ReadCounter(h));
    }

    [TestMethod]
    public void NewCounterStartsAboveDeletedCounters()
    {
        // swtpm: a counter deleted at 3, a new counter's first increment gives 4.
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        for (int i = 0; i < 3; i++) Ok(h.Send(Increment()));
        Ok(h.Send(Undefine()));
        Ok(h.Send(Define(TestIndex + 1, OwnerRw.WithType(TpmNt.Counter), 8)));
        Ok(h.Send(Increment(TestIndex + 1)));
        Assert.AreEqual(4UL, ReadCounter(h, TestIndex + 1));
    }

    [TestMethod]
    public void HighestCounterSurvivesClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        for (int i = 0; i < 5; i++) Ok(h.Send(Increment()));
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Platform).Password()));
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        Ok(h.Send(Increment()));
        Assert.AreEqual(6UL, ReadCounter(h));
    }

    [TestMethod]
    public void NvWriteOnCounterIsAttributes()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        // swtpm answers 0x082 (no index) to NV_Write on a counter.
        Assert.AreEqual(TpmRc.Attributes, h.Send(Write(new byte[8])).Rc);
    }

    [TestMethod]
    public void IncrementOfOrdinaryIndexIsAttributes()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        // swtpm answers 0x282.
        Assert.AreEqual(new TpmRc(0x282), h.Send(Increment()).Rc);
    }

    [TestMethod]
    public void ExtendHashesFromZeros()
    {
        // Same value as swtpm for tpm2_nvextend of "hi\n" on a fresh SHA-256 extend index.
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Extend), 32)));
        Ok(h.Send(Cmd.Of(TpmCc.NvExtend).Handle(TpmRh.Owner).Handle(TestIndex).Password().B2("hi\n")));
        Assert.AreEqual("a8adf705042b8d083609b1ecb2242a63357da6ccf01611e9822a93efd4428b93", Convert.ToHexStringLower(Data(h.Send(Read(32)))));
    }

    [TestMethod]
    public void SetBitsOrsIntoBitField()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Bits), 8)));
        Ok(h.Send(Cmd.Of(TpmCc.NvSetBits).Handle(TpmRh.Owner).Handle(TestIndex).Password().U64(0x11)));
        Ok(h.Send(Cmd.Of(TpmCc.NvSetBits).Handle(TpmRh.Owner).Handle(TestIndex).Password().U64(0x100)));
        Assert.AreEqual(0x111UL, ReadCounter(h));
    }

    [TestMethod]
    public void UndefinedIndexIsGone()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Ok(h.Send(Undefine()));
        Assert.AreEqual(TpmRc.Handle.ForHandle(1), h.Send(ReadPublic()).Rc);
    }

    [TestMethod]
    public void OwnerCannotUndefinePlatformIndex()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate, 8, authHandle: TpmRh.Platform)));
        Assert.AreEqual(TpmRc.NvAuthorization, h.Send(Undefine()).Rc);
    }

    [TestMethod]
    public void PolicyDeleteIndexCannotBeUndefinedNormally()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate | TpmaNv.PolicyDelete, 8, authHandle: TpmRh.Platform, policy: new byte[32])));
        Assert.AreEqual(TpmRc.Attributes.ForHandle(2), h.Send(Undefine(auth: TpmRh.Platform)).Rc);
    }

    [TestMethod]
    public void UndefineSpaceSpecialWithPasswordIsAuthType()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate | TpmaNv.PolicyDelete, 8, authHandle: TpmRh.Platform, policy: new byte[32])));
        var r = h.Tss(Cmd.Of(TpmCc.NvUndefineSpaceSpecial).Handle(TestIndex).Handle(TpmRh.Platform).Password().Password());
        Assert.AreEqual(TpmRc.AuthType, r.Rc);
    }

    [TestMethod]
    public void ChangeAuthWithPasswordIsAuthType()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw, 8)));
        Assert.AreEqual(TpmRc.AuthType, h.Tss(Cmd.Of(TpmCc.NvChangeAuth).Handle(TestIndex).Password().B2("new")).Rc);
    }

    [TestMethod]
    public void PlatformIndexHiddenWhilePhEnableNvClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate, 8, authHandle: TpmRh.Platform)));
        Ok(h.Send(Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.PlatformNv).U8(0)));
        Assert.AreEqual(TpmRc.Handle.ForHandle(1), h.Send(ReadPublic()).Rc);
    }

    [TestMethod]
    public void CountersPropertyCountsCounterIndices()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 8)));
        Ok(h.Send(Define(TestIndex + 1, OwnerRw, 8)));
        Assert.IsTrue(h.Tpm.Nv.TryGetProperty(TpmPt.NvCounters, out uint n));
        Assert.AreEqual(1u, n);
    }

    [TestMethod]
    public void FirstDaProtectedAuthorizationAfterStartupIsRetry()
    {
        // The reference (USE_DA_USED) and swtpm answer 0x922 once, then accept the same command.
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw, 4, "secret")));
        Assert.AreEqual(TpmRc.Retry, h.Send(Write([1], auth: TestIndex, password: "secret")).Rc);
        Ok(h.Send(Write([1], auth: TestIndex, password: "secret")));
    }

    [TestMethod]
    public void NoDaIndexAuthorizationIsNotRetried()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw | TpmaNv.NoDa, 4, "secret")));
        Ok(h.Send(Write([1], auth: TestIndex, password: "secret")));
    }
}
