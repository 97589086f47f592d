using Vtpm.Tests.Support;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Nv;

[TestClass]
public sealed class NvLockAndPersistenceTests
{
    static Cmd WriteLock() => Cmd.Of(TpmCc.NvWriteLock).Handle(TpmRh.Owner).Handle(TestIndex).Password();
    static Cmd ReadLock() => Cmd.Of(TpmCc.NvReadLock).Handle(TpmRh.Owner).Handle(TestIndex).Password();

    [TestMethod]
    public void WriteLockedIndexIsNvLocked()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteStClear, 8)));
        Ok(h.Send(WriteLock()));
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Write([1])).Rc);
    }

    [TestMethod]
    public void WriteLockWithoutLockAttributeIsAttributesOnHandle2()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Assert.AreEqual(TpmRc.Attributes.ForHandle(2), h.Send(WriteLock()).Rc);
    }

    [TestMethod]
    public void WriteStClearLockEndsAtStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteStClear, 8)));
        Ok(h.Send(WriteLock()));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Send(Write([1])));
    }

    [TestMethod]
    public void WriteStClearLockSurvivesResume()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteStClear, 8)));
        Ok(h.Send(WriteLock()));
        ShutdownRestart(h, TpmSu.State, TpmSu.State);
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Write([1])).Rc);
    }

    [TestMethod]
    public void WriteDefineLockOfWrittenIndexSurvivesStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteDefine, 8)));
        Ok(h.Send(Write([1])));
        Ok(h.Send(WriteLock()));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Write([1])).Rc);
    }

    [TestMethod]
    public void WriteDefineLockOfUnwrittenIndexEndsAtStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.WriteDefine, 8)));
        Ok(h.Send(WriteLock()));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Send(Write([1])));
    }

    [TestMethod]
    public void ReadLockedIndexIsNvLockedUntilStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.ReadStClear, 8)));
        Ok(h.Send(Write([1])));
        Ok(h.Send(ReadLock()));
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Read(1)).Rc);
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Send(Read(1)));
    }

    [TestMethod]
    public void ReadLockWithoutReadStClearIsAttributesOnHandle2()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Assert.AreEqual(TpmRc.Attributes.ForHandle(2), h.Send(ReadLock()).Rc);
    }

    [TestMethod]
    public void GlobalWriteLockLocksGlobalLockIndicesOnly()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.GlobalLock, 8)));
        Ok(h.Send(Define(TestIndex + 1, OwnerRw, 8)));
        Ok(h.Send(Cmd.Of(TpmCc.NvGlobalWriteLock).Handle(TpmRh.Owner).Password()));
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Write([1])).Rc);
        Ok(h.Send(Write([1], index: TestIndex + 1)));
        Assert.IsTrue((Attributes(h) & TpmaNv.WriteLocked) != 0);
    }

    [TestMethod]
    public void GlobalWriteLockEndsAtStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.GlobalLock, 8)));
        Ok(h.Send(Cmd.Of(TpmCc.NvGlobalWriteLock).Handle(TpmRh.Owner).Password()));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Send(Write([1])));
    }

    [TestMethod]
    public void GlobalWriteLockSurvivesResume()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.GlobalLock, 8)));
        Ok(h.Send(Cmd.Of(TpmCc.NvGlobalWriteLock).Handle(TpmRh.Owner).Password()));
        ShutdownRestart(h, TpmSu.State, TpmSu.State);
        Assert.AreEqual(TpmRc.NvLocked, h.Send(Write([1])).Rc);
    }

    [TestMethod]
    public void ClearStClearIndexIsUnwrittenAfterStartupClear()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.ClearStClear, 8)));
        Ok(h.Send(Write([1])));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Assert.AreEqual(TpmRc.NvUninitialized, h.Send(Read(1)).Rc);
    }

    [TestMethod]
    public void DataSurvivesProcessRestartWithoutShutdown()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 4)));
        Ok(h.Send(Write([7, 8, 9, 10])));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        CollectionAssert.AreEqual(new byte[] { 7, 8, 9, 10 }, Data(h.Send(Read(4))));
    }

    [TestMethod]
    public void IndexAuthValueSurvivesRestart()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(AuthRw, 4, "pw")));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Ok(h.Tss(Write([1], auth: TestIndex, password: "pw")));
    }

    [TestMethod]
    public void ClearDeletesOwnerIndicesAndKeepsPlatformIndices()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        Ok(h.Send(Define(TestIndex + 1, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate, 8, authHandle: TpmRh.Platform)));
        Ok(h.Send(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Platform).Password()));
        Assert.AreEqual(TpmRc.Handle.ForHandle(1), h.Send(ReadPublic()).Rc);
        Ok(h.Send(ReadPublic(TestIndex + 1)));
    }

    [TestMethod]
    public void OrderlyIndexIsUnwrittenAfterTpmReset()
    {
        // swtpm: an ORDERLY ordinary index reads TPM_RC_NV_UNINITIALIZED after Shutdown(CLEAR)+Startup(CLEAR).
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.Orderly, 4)));
        Ok(h.Send(Write([1, 2, 3, 4])));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Assert.AreEqual(TpmRc.NvUninitialized, h.Send(Read(4)).Rc);
    }

    [TestMethod]
    public void OrderlyIndexKeepsDataAcrossRestart()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw | TpmaNv.Orderly, 4)));
        Ok(h.Send(Write([1, 2, 3, 4])));
        ShutdownRestart(h, TpmSu.State, TpmSu.Clear);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4 }, Data(h.Send(Read(4))));
    }

    [TestMethod]
    public void OrderlyCounterJumpsAfterPowerLoss()
    {
        // swtpm: 3 increments, power loss, Startup(CLEAR): the counter reads 0xFF.
        var h = new EngineHost();
        Ok(h.Send(Define((OwnerRw | TpmaNv.Orderly).WithType(TpmNt.Counter), 8)));
        for (int i = 0; i < 3; i++) Ok(h.Send(Increment()));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)));
        Assert.AreEqual(0xFFUL, ReadCounter(h));
    }

    [TestMethod]
    public void OrderlyCounterKeepsValueAfterOrderlyShutdown()
    {
        var h = new EngineHost();
        Ok(h.Send(Define((OwnerRw | TpmaNv.Orderly).WithType(TpmNt.Counter), 8)));
        for (int i = 0; i < 3; i++) Ok(h.Send(Increment()));
        ShutdownRestart(h, TpmSu.Clear, TpmSu.Clear);
        Assert.AreEqual(3UL, ReadCounter(h));
    }
}
