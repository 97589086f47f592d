using Vtpm.Tests.Support;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Pcr.PcrHelpers;

namespace Vtpm.Tests.Capability;

[TestClass]
public sealed class CapabilityTests
{
    static Rsp Get(EngineHost h, TpmCap cap, uint property, uint count) =>
        h.Send(Cmd.Of(TpmCc.GetCapability).U32((uint)cap).U32(property).U32(count));

    /// <summary>moreData, then the list count and the raw entries.</summary>
    static (byte MoreData, uint Count, byte[] Entries) Parse(Rsp r, TpmCap cap)
    {
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        int o = 1;
        Assert.AreEqual((uint)cap, U32(p, ref o));
        uint n = U32(p, ref o);
        return (p[0], n, p[o..]);
    }

    static List<uint> U32s(byte[] b)
    {
        var l = new List<uint>();
        for (int o = 0; o < b.Length;) l.Add(U32(b, ref o));
        return l;
    }

    [TestMethod]
    public void AlgorithmsArePagedFromProperty()
    {
        var h = new EngineHost();
        var (more, n, e) = Parse(Get(h, TpmCap.Algs, 0, 2), TpmCap.Algs);
        Assert.AreEqual(1, more);
        Assert.AreEqual(2u, n);
        CollectionAssert.AreEqual(new byte[] { 0, 4, 0, 0, 0, 4, 0, 5, 0, 0, 1, 4 }, e);
    }

    [TestMethod]
    public void AlgorithmsFromSha256OnDoNotIncludeSha1()
    {
        var h = new EngineHost();
        var (more, _, e) = Parse(Get(h, TpmCap.Algs, (uint)TpmAlgId.Sha256, 100), TpmCap.Algs);
        Assert.AreEqual(0, more);
        Assert.AreEqual((byte)0x0B, e[1]);
    }

    [TestMethod]
    [DataRow(0x0Bu)]
    [DataRow(0x100u)]
    public void UnknownCapabilityIsValueParameter1(uint cap)
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), Get(h, (TpmCap)cap, 0, 1).Rc);
    }

    [TestMethod]
    public void UnknownCapabilityIsValueParameter1BeforePropertyIsRead()
    {
        // TPM_CAP is checked as it is unmarshalled (Part 2 §6.12), as swtpm: not TPM_RC_INSUFFICIENT for parameter 2.
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.GetCapability).U32(0x50)).Rc);
    }

    [TestMethod]
    public void HandlesOfUnknownTypeIsHandleParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Handle.ForParameter(2), Get(h, TpmCap.Handles, 0x05000000, 1).Rc);
    }

    [TestMethod]
    public void PermanentHandlesAreThoseSwtpmReports()
    {
        var h = new EngineHost();
        var (_, _, e) = Parse(Get(h, TpmCap.Handles, 0x40000000, 100), TpmCap.Handles);
        CollectionAssert.AreEqual(new uint[] { 0x40000001, 0x40000007, 0x40000009, 0x4000000A, 0x4000000B, 0x4000000C, 0x4000000D }, U32s(e));
    }

    [TestMethod]
    public void PcrHandlesArePaged()
    {
        var h = new EngineHost();
        var first = Parse(Get(h, TpmCap.Handles, 0, 10), TpmCap.Handles);
        Assert.AreEqual(1, first.MoreData);
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => (uint)i).ToList(), U32s(first.Entries));
        var last = Parse(Get(h, TpmCap.Handles, 20, 10), TpmCap.Handles);
        Assert.AreEqual(0, last.MoreData);
        CollectionAssert.AreEqual(new uint[] { 20, 21, 22, 23 }, U32s(last.Entries));
    }

    [TestMethod]
    public void TransientHandlesListLoadedSequences()
    {
        var h = new EngineHost();
        uint s = h.Send(Cmd.Of(TpmCc.HashSequenceStart).B2("").U16((ushort)TpmAlgId.Sha256), responseHandle: true).Handle;
        var (_, _, e) = Parse(Get(h, TpmCap.Handles, 0x80000000, 10), TpmCap.Handles);
        CollectionAssert.AreEqual(new[] { s }, U32s(e));
    }

    [TestMethod]
    public void PcrPropertiesEqualSwtpmAnswer()
    {
        var h = new EngineHost();
        var r = Get(h, TpmCap.PcrProperties, 0, 32);
        // swtpm 0.7 / libtpms answer to GetCapability(TPM_CAP_PCR_PROPERTIES, 0, 32).
        var swtpm = Convert.FromHexString(
            "0000000007" + "0000000f" + "0000000003ffff00" + "0000000103ffff81" + "0000000203000081" + "0000000303ffff91"
            + "0000000403000081" + "0000000503ffffff" + "00000006030000f1" + "0000000703ffff9f" + "0000000803000081"
            + "0000000903ffff87" + "0000000a0300007e" + "00000011030000e1" + "000000120300007e" + "0000001303000070"
            + "0000001403000070");
        CollectionAssert.AreEqual(swtpm, r.Parameters);
    }

    [TestMethod]
    public void FixedPropertiesArePagedFromProperty()
    {
        var h = new EngineHost();
        var (more, n, e) = Parse(Get(h, TpmCap.TpmProperties, (uint)TpmPt.FamilyIndicator, 2), TpmCap.TpmProperties);
        Assert.AreEqual(1, more);
        Assert.AreEqual(2u, n);
        CollectionAssert.AreEqual(new uint[] { 0x100, 0x322E3000, 0x101, 0 }, U32s(e));
    }

    [TestMethod]
    public void PropertyCountZeroGivesEmptyListWithMoreData()
    {
        var h = new EngineHost();
        var (more, n, _) = Parse(Get(h, TpmCap.TpmProperties, 0, 0), TpmCap.TpmProperties);
        Assert.AreEqual(1, more);
        Assert.AreEqual(0u, n);
    }

    [TestMethod]
    public void PropertyCountIsCappedAtMaxTpmProperties()
    {
        var h = new EngineHost();
        var (_, n, _) = Parse(Get(h, TpmCap.TpmProperties, 0, 1000), TpmCap.TpmProperties);
        Assert.IsLessThanOrEqualTo(127u, n);
    }

    [TestMethod]
    public void TotalCommandsCountsTheCommandTable()
    {
        var h = new EngineHost();
        var (_, _, e) = Parse(Get(h, TpmCap.TpmProperties, (uint)TpmPt.TotalCommands, 1), TpmCap.TpmProperties);
        CollectionAssert.AreEqual(new uint[] { (uint)TpmPt.TotalCommands, (uint)CommandTable.All.Count }, U32s(e));
    }

    [TestMethod]
    public void TransientAvailableDropsWhenASequenceIsLoaded()
    {
        var h = new EngineHost();
        h.Send(Cmd.Of(TpmCc.HashSequenceStart).B2("").U16((ushort)TpmAlgId.Sha256));
        var (_, _, e) = Parse(Get(h, TpmCap.TpmProperties, (uint)TpmPt.HrTransientAvail, 1), TpmCap.TpmProperties);
        CollectionAssert.AreEqual(new uint[] { (uint)TpmPt.HrTransientAvail, 2 }, U32s(e));
    }

    [TestMethod]
    [DataRow(TpmCc.PcrExtend, 0x02400182u)]
    [DataRow(TpmCc.HashSequenceStart, 0x10000186u)]
    [DataRow(TpmCc.EventSequenceComplete, 0x05400185u)]
    [DataRow(TpmCc.GetCapability, 0x0000017Au)]
    public void CommandAttributesMatchSwtpm(TpmCc code, uint tpmaCc)
    {
        var h = new EngineHost();
        var (_, _, e) = Parse(Get(h, TpmCap.Commands, (uint)code, 1), TpmCap.Commands);
        CollectionAssert.AreEqual(new[] { tpmaCc }, U32s(e));
    }

    [TestMethod]
    public void CommandsListEveryImplementedCommandInOrder()
    {
        var h = new EngineHost();
        var (more, _, e) = Parse(Get(h, TpmCap.Commands, 0, 1000), TpmCap.Commands);
        Assert.AreEqual(0, more);
        var codes = U32s(e).Select(v => v & 0xFFFF).ToList();
        CollectionAssert.AreEqual(CommandTable.All.Select(d => (uint)d.Code).Order().ToList(), codes);
    }

    [TestMethod]
    public void PcrsCapabilityReportsTheAllocation()
    {
        var h = new EngineHost();
        var (more, n, e) = Parse(Get(h, TpmCap.Pcrs, 0, 1), TpmCap.Pcrs);
        Assert.AreEqual(0, more);
        Assert.AreEqual(4u, n);
        CollectionAssert.AreEqual(Convert.FromHexString("000403ffffff000b03ffffff000c03000000000d03000000"), e);
    }

    [TestMethod]
    [DataRow(TpmCap.EccCurves)]
    [DataRow(TpmCap.Act)]
    [DataRow(TpmCap.AuditCommands)]
    public void UnimplementedListsAreEmpty(TpmCap cap)
    {
        var h = new EngineHost();
        var (more, n, _) = Parse(Get(h, cap, 0, 10), cap);
        Assert.AreEqual(0, more);
        Assert.AreEqual(0u, n);
    }

    [TestMethod]
    public void AuthPoliciesListTheFourHierarchies()
    {
        var h = new EngineHost();
        var (_, n, e) = Parse(Get(h, TpmCap.AuthPolicies, 0x40000000, 10), TpmCap.AuthPolicies);
        Assert.AreEqual(4u, n);
        int o = 0;
        Assert.AreEqual((uint)TpmRh.Owner, U32(e, ref o));
    }
}
