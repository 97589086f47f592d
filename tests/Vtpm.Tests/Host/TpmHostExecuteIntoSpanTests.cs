using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

/// <summary>
/// TpmHost.Execute into the caller's buffer (the socket transports' allocation-free path): the same answer as
/// the copying overload, whatever the caller's buffer size, as long as the response fits.
/// </summary>
[TestClass]
public sealed class TpmHostExecuteIntoSpanTests
{
    static byte[] Startup => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();

    // GetCapability(TPM_PROPERTIES, TPM_PT_MANUFACTURER, 1): a fixed, deterministic answer.
    static byte[] GetManufacturer => Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.TpmProperties).U32((uint)TpmPt.Manufacturer).U32(1).Build();

    static TpmHost Started()
    {
        var host = new TpmHost(new MemoryStateStore(), NullLogger.Instance);
        host.Init();
        Assert.AreEqual(TpmRc.Success, new Rsp(host.Execute(Startup, 0), false).Rc);
        return host;
    }

    [TestMethod]
    public void FullSizeBuffer_HoldsTheSameResponseAsTheCopyingOverload()
    {
        using var host = Started();
        var expected = host.Execute(GetManufacturer, 0);
        var buffer = new byte[host.MaxResponseSize];
        int n = host.Execute(GetManufacturer, 0, buffer);
        CollectionAssert.AreEqual(expected, buffer[..n]);
    }

    [TestMethod]
    public void BufferJustLargeEnough_ReceivesACopyOfTheResponse()
    {
        using var host = Started();
        var expected = host.Execute(GetManufacturer, 0);
        var buffer = new byte[expected.Length];
        Assert.AreEqual(expected.Length, host.Execute(GetManufacturer, 0, buffer));
        CollectionAssert.AreEqual(expected, buffer);
    }

    [TestMethod]
    public void BufferTooSmall_IsAnArgumentError_AndTheInstanceGoesOn()
    {
        using var host = Started();
        var getRandom = Cmd.Of(TpmCc.GetRandom).U16(16).Build();
        Assert.ThrowsExactly<ArgumentException>(() => host.Execute(getRandom, 0, new byte[12]));
        // The instance is unharmed: the next command is answered normally.
        Assert.AreEqual(TpmRc.Success, new Rsp(host.Execute(getRandom, 0), false).Rc);
    }

    [TestMethod]
    public void Locality_IsPassedToTheEngine()
    {
        using var host = Started();
        // PCR 17 can be reset only from locality 4 (PC Client PCR attributes); locality 0 gets TPM_RC_LOCALITY.
        var reset = Cmd.Of(TpmCc.PcrReset).Handle(17).Password().Build();
        var buffer = new byte[host.MaxResponseSize];
        int n = host.Execute(reset, 0, buffer);
        Assert.AreEqual(TpmRc.Locality, new Rsp(buffer[..n], false).Rc);
        n = host.Execute(reset, 4, buffer);
        Assert.AreEqual(TpmRc.Success, new Rsp(buffer[..n], false).Rc);
    }
}
