using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Nv;

[TestClass]
public sealed class NvDefineSpaceTests
{
    [TestMethod]
    public void DefinedIndexIsListedAndCounted()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 16)));
        var handles = new List<uint>();
        h.Tpm.Nv.ListHandles(TpmHt.NvIndex, handles);
        CollectionAssert.AreEqual(new[] { TestIndex }, handles);
        Assert.IsTrue(h.Tpm.Nv.TryGetProperty(TpmPt.HrNvIndex, out uint n));
        Assert.AreEqual(1u, n);
    }

    [TestMethod]
    public void DefiningTwiceIsNvDefined()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 16)));
        Assert.AreEqual(TpmRc.NvDefined, h.Send(Define(OwnerRw, 16)).Rc);
    }

    [TestMethod]
    public void ReservedAttributeBitsAreReservedBitsOnParameter2()
    {
        // swtpm answers 0x2E1 for attributes 0x00060302.
        var h = new EngineHost();
        Assert.AreEqual(new TpmRc(0x2E1), h.Send(Define(OwnerRw | (TpmaNv)0x300, 8)).Rc);
    }

    [TestMethod]
    public void WriteLockedAtDefinitionIsAttributesOnParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(new TpmRc(0x2C2), h.Send(Define(OwnerRw | TpmaNv.WriteLocked, 8)).Rc);
    }

    [TestMethod]
    public void UndefinedTypeIsAttributes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForParameter(2), h.Send(Define(OwnerRw.WithType((TpmNt)3), 8)).Rc);
    }

    [TestMethod]
    public void NoReadAttributeIsAttributes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForParameter(2), h.Send(Define(TpmaNv.OwnerWrite, 8)).Rc);
    }

    [TestMethod]
    public void PlatformCreateByOwnerIsAttributesOnHandle1()
    {
        // swtpm answers 0x182.
        var h = new EngineHost();
        Assert.AreEqual(new TpmRc(0x182), h.Send(Define(OwnerRw | TpmaNv.PlatformCreate, 8)).Rc);
    }

    [TestMethod]
    public void PlatformDefinitionWithoutPlatformCreateIsAttributesOnHandle1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForHandle(1), h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite, 8, authHandle: TpmRh.Platform)).Rc);
    }

    [TestMethod]
    public void CounterOfFourBytesIsSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw.WithType(TpmNt.Counter), 4)).Rc);
    }

    [TestMethod]
    public void CounterWithClearStClearIsAttributes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForParameter(2), h.Send(Define((OwnerRw | TpmaNv.ClearStClear).WithType(TpmNt.Counter), 8)).Rc);
    }

    [TestMethod]
    public void ExtendIndexMustBeDigestSized()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw.WithType(TpmNt.Extend), 20)).Rc);
    }

    [TestMethod]
    public void PinFailWithoutNoDaIsAttributes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForParameter(2), h.Send(Define(OwnerRw.WithType(TpmNt.PinFail), 8)).Rc);
    }

    [TestMethod]
    public void PolicyDeleteByOwnerIsAttributes()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Attributes.ForParameter(2), h.Send(Define(OwnerRw | TpmaNv.PolicyDelete, 8)).Rc);
    }

    [TestMethod]
    public void OrdinaryLargerThanIndexMaxIsSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw, NvSubsystem.IndexMax + 1)).Rc);
    }

    [TestMethod]
    public void DataSizeAboveIndexMaxIsSizeOnParameter2BeforeTheOtherChecks()
    {
        // TPMS_NV_PUBLIC.dataSize {:MAX_NV_INDEX_SIZE} (Part 2 §13.5): its unmarshal refuses the size, so NV_DefineSpace
        // never gets to the auth, attribute or hierarchy checks (swtpm answers 0x2D5 to each).
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(TestIndex, AuthRw, NvSubsystem.IndexMax + 1, new string('a', 40))).Rc);
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw | TpmaNv.WriteLocked, 4096)).Rc);
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw | TpmaNv.PlatformCreate, 4096)).Rc);
    }

    [TestMethod]
    public void WriteAllLargerThanBufferMaxIsSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(OwnerRw | TpmaNv.WriteAll, NvSubsystem.BufferMax + 1)).Rc);
    }

    [TestMethod]
    public void AuthLongerThanNameAlgDigestIsSizeOnParameter1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(Define(TestIndex, AuthRw, 8, new string('a', 21), TpmAlgId.Sha1)).Rc);
    }

    [TestMethod]
    public void PolicyOfWrongSizeIsSizeOnParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(2), h.Send(Define(TestIndex, OwnerRw, 8, policy: new byte[20])).Rc);
    }

    [TestMethod]
    public void UnknownNameAlgIsHashOnParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Hash.ForParameter(2), h.Send(Define(TestIndex, OwnerRw, 8, alg: TpmAlgId.Null)).Rc);
    }

    [TestMethod]
    public void NonNvHandleInPublicIsValueOnParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(2), h.Send(Define(0x81000001, OwnerRw, 8)).Rc);
    }

    [TestMethod]
    public void EmptyPublicInfoIsSizeOnParameter2()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2("").U16(0));
        Assert.AreEqual(TpmRc.Size.ForParameter(2), r.Rc);
    }

    [TestMethod]
    public void FillingNvIsNvSpace()
    {
        var h = new EngineHost();
        TpmRc rc = TpmRc.Success;
        for (uint i = 0; i < 100 && rc.IsSuccess; i++) rc = h.Send(Define(TestIndex + i, OwnerRw, NvSubsystem.IndexMax)).Rc;
        Assert.AreEqual(TpmRc.NvSpace, rc);
    }

    [TestMethod]
    public void PlatformIndexNeedsPhEnableNv()
    {
        var h = new EngineHost();
        Ok(h.Send(Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.PlatformNv).U8(0)));
        var r = h.Send(Define(TestIndex, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate, 8, authHandle: TpmRh.Platform));
        Assert.AreEqual(TpmRc.Hierarchy.ForHandle(1), r.Rc);
    }

    [TestMethod]
    public void NameIsNameAlgAndHashOfPublicArea()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        var p = h.Send(ReadPublic()).Parameters;
        int pubSize = BinaryPrimitives.ReadUInt16BigEndian(p);
        var pub = p.AsSpan(2, pubSize).ToArray();
        var name = p.AsSpan(2 + pubSize + 2).ToArray();
        CollectionAssert.AreEqual(new byte[] { 0x00, 0x0B }.Concat(System.Security.Cryptography.SHA256.HashData(pub)).ToArray(), name);
    }

    [TestMethod]
    public void WritingSetsWrittenAndChangesName()
    {
        var h = new EngineHost();
        Ok(h.Send(Define(OwnerRw, 8)));
        var before = h.Send(ReadPublic()).Parameters;
        Ok(h.Send(Write([1, 2, 3])));
        var after = h.Send(ReadPublic()).Parameters;
        Assert.IsTrue((Attributes(h) & TpmaNv.Written) != 0);
        CollectionAssert.AreNotEqual(before, after);
    }
}
