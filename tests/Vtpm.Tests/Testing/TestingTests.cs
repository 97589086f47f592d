using Vtpm.Tests.Support;
using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Pcr.PcrHelpers;

namespace Vtpm.Tests.Testing;

[TestClass]
public sealed class TestingTests
{
    [TestMethod]
    public void EveryImplementedAlgorithmPassesItsKnownAnswerTest()
    {
        foreach (var (alg, _) in ImplementedAlgorithms.All) Assert.IsTrue(SelfTests.Run(alg), alg.ToString());
    }

    [TestMethod]
    public void FullSelfTestSucceedsAndLeavesNothingToDo()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.SelfTest).U8(1)).Rc);
        var r = h.Send(Cmd.Of(TpmCc.IncrementalSelfTest).U32(0));
        CollectionAssert.AreEqual(new byte[4], r.Parameters);
    }

    [TestMethod]
    public void SelfTestWithBadYesNoIsValueParameter1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.SelfTest).U8(2)).Rc);
    }

    [TestMethod]
    public void IncrementalSelfTestReturnsTheAlgorithmsStillUntested()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.IncrementalSelfTest).U32(2).U16((ushort)TpmAlgId.Sha256).U16(0x0001));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        int o = 0;
        uint n = U32(p, ref o);
        var algs = new List<ushort>();
        for (int i = 0; i < n; i++) algs.Add(U16(p, ref o));
        Assert.AreEqual(ImplementedAlgorithms.All.Length - 1, algs.Count);
        CollectionAssert.DoesNotContain(algs, (ushort)TpmAlgId.Sha256);
        CollectionAssert.Contains(algs, (ushort)TpmAlgId.Sha1);
    }

    [TestMethod]
    public void GetTestResultIsSuccessWhenHealthy()
    {
        var h = new EngineHost();
        CollectionAssert.AreEqual(new byte[6], h.Send(Cmd.Of(TpmCc.GetTestResult)).Parameters);
    }

    [TestMethod]
    public void GetTestResultInFailureModeReportsFailureAndReason()
    {
        var h = new EngineHost();
        h.Tpm.EnterFailureMode("test");
        var p = h.Send(Cmd.Of(TpmCc.GetTestResult)).Parameters;
        int o = 0;
        int n = U16(p, ref o);
        Assert.AreEqual("test", System.Text.Encoding.UTF8.GetString(p, o, n));
        o += n;
        Assert.AreEqual(TpmRc.Failure.Code, U32(p, ref o));
    }

    static Cmd Parms(params ushort[] words)
    {
        var c = Cmd.Of(TpmCc.TestParms);
        foreach (var w in words) c.U16(w);
        return c;
    }

    [TestMethod]
    [DataRow(new ushort[] { 0x0008, 0x0005, 0x000B })]
    [DataRow(new ushort[] { 0x0008, 0x000A, 0x000B, 0x0022 })]
    [DataRow(new ushort[] { 0x0008, 0x0010 })]
    [DataRow(new ushort[] { 0x0025, 0x0006, 128, 0x0043 })]
    [DataRow(new ushort[] { 0x0025, 0x0006, 256, 0x0010 })]
    public void TestParmsAcceptsImplementedParameters(ushort[] parms)
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Parms(parms)).Rc);
    }

    [TestMethod]
    [DataRow(new ushort[] { 0x0001, 0x0010, 0x0010, 2048, 0, 0 }, 0x08Au)]
    [DataRow(new ushort[] { 0x0008, 0x0005, 0x0005 }, 0x083u)]
    [DataRow(new ushort[] { 0x0008, 0x0014 }, 0x084u)]
    [DataRow(new ushort[] { 0x0008, 0x000A, 0x000B, 0x0007 }, 0x08Cu)]
    [DataRow(new ushort[] { 0x0025, 0x0026, 128, 0x0043 }, 0x096u)]
    [DataRow(new ushort[] { 0x0025, 0x0006, 100, 0x0043 }, 0x084u)]
    [DataRow(new ushort[] { 0x0025, 0x0006, 128, 0x0040 }, 0x089u)]
    [DataRow(new ushort[] { 0x0025, 0x0006, 192, 0x0043 }, 0x084u)]
    [DataRow(new ushort[] { 0x0008, 0x000A, 0x0010, 0x0022 }, 0x083u)]
    [DataRow(new ushort[] { 0x0001, 0x0010, 0x0010, 1000, 0, 0 }, 0x084u)]
    public void TestParmsRejectsWhatIsNotImplementedAsParameter1(ushort[] parms, uint baseCode)
    {
        var h = new EngineHost();
        Assert.AreEqual(new TpmRc(baseCode).ForParameter(1), h.Send(Parms(parms)).Rc);
    }
}
