using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Engine;

[TestClass]
public sealed class DispatcherTests
{
    [TestMethod]
    public void CommandBeforeStartupIsInitialize()
    {
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Initialize, h.Send(Cmd.Of(TpmCc.GetRandom).U16(8)).Rc);
    }

    [TestMethod]
    public void SecondStartupIsInitialize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Initialize, h.Send(Cmd.Of(TpmCc.Startup).U16(0)).Rc);
    }

    [TestMethod]
    public void GetRandomReturnsRequestedBytes()
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.GetRandom).U16(16));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(18, r.Parameters.Length);
        Assert.AreEqual(16, r.Parameters[1]);
    }

    [TestMethod]
    public void UnknownCommandCodeIsCommandCode()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.CommandCode, h.Send(Cmd.Of((TpmCc)0x1FF)).Rc);
    }

    [TestMethod]
    public void WrongTagIsBadTag()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.GetRandom).U16(8).Build();
        cmd[1] = 0xC1;
        Assert.AreEqual(TpmRc.BadTag, h.Send(cmd).Rc);
    }

    [TestMethod]
    public void SizeFieldDisagreeingWithFrameIsCommandSize()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.GetRandom).U16(8).Build();
        cmd[5]++;
        Assert.AreEqual(TpmRc.CommandSize, h.Send(cmd).Rc);
    }

    [TestMethod]
    public void TruncatedParameterIsInsufficientForParameterOne()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Insufficient.ForParameter(1), h.Send(Cmd.Of(TpmCc.GetRandom).U8(8)).Rc);
    }

    [TestMethod]
    public void TrailingParameterBytesAreSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size, h.Send(Cmd.Of(TpmCc.GetRandom).U16(8).U8(0)).Rc);
    }

    [TestMethod]
    public void StartupWithTrailingBytesIsSizeAndLeavesTheTpmUnstarted()
    {
        // Leftover parameter bytes are refused before the handler acts (as swtpm): no Startup happened.
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Size, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).U8(0)).Rc);
        Assert.AreEqual(TpmRc.Initialize, h.Send(Cmd.Of(TpmCc.GetRandom).U16(8)).Rc);
    }

    [TestMethod]
    [DataRow((ushort)2)]
    [DataRow((ushort)0x100)]
    public void StartupTypeOutsideTpmSuIsValueEvenWithTrailingBytes(ushort startupType)
    {
        // TPM_SU is checked as it is unmarshalled (Part 2 §6.10), before the leftover bytes are seen.
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.Startup).U16(startupType).U8(0)).Rc);
    }

    [TestMethod]
    public void StartupStateWithoutShutdownStateIsValue()
    {
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
    }

    [TestMethod]
    public void ResponseCodeNamesCarryTheIndex()
    {
        Assert.AreEqual("TPM_RC_VALUE (parameter 1)", TpmRc.Value.ForParameter(1).ToString());
        Assert.AreEqual("TPM_RC_AUTH_FAIL (session 1)", TpmRc.AuthFail.ForSession(1).ToString());
        Assert.AreEqual("TPM_RC_HANDLE (handle 2)", TpmRc.Handle.ForHandle(2).ToString());
        Assert.AreEqual("TPM_RC_NV_LOCKED", TpmRc.NvLocked.ToString());
        Assert.AreEqual(0x9A2u, TpmRc.BadAuth.ForSession(1).Code);
    }
}
