using Vtpm.Wire;

namespace Vtpm.Tests.WireFormat;

[TestClass]
public sealed class TpmRcTests
{
    // Part 2 §6.6: format-1 codes put the parameter number in bits 8–11 with bit 6 set, the handle number in
    // bits 8–10, the session number in bits 8–10 with bit 11 set.
    [TestMethod]
    [DataRow(0x084u, 1, 0x1C4u)]
    [DataRow(0x095u, 2, 0x2D5u)]
    [DataRow(0x09Au, 15, 0xFDAu)]
    public void ParameterNumberIsInBits8To11WithBit6(uint code, int n, uint expected)
        => Assert.AreEqual(expected, new TpmRc(code).ForParameter(n).Code);

    [TestMethod]
    [DataRow(0x08Bu, 1, 0x18Bu)]
    [DataRow(0x08Bu, 3, 0x38Bu)]
    public void HandleNumberIsInBits8To10(uint code, int n, uint expected)
        => Assert.AreEqual(expected, new TpmRc(code).ForHandle(n).Code);

    [TestMethod]
    [DataRow(0x08Eu, 1, 0x98Eu)]
    [DataRow(0x0A2u, 2, 0xAA2u)]
    public void SessionNumberIsInBits8To10WithBit11(uint code, int n, uint expected)
        => Assert.AreEqual(expected, new TpmRc(code).ForSession(n).Code);

    [TestMethod]
    public void FormatZeroCodesAndWarningsCarryNoIndex()
    {
        Assert.AreEqual(TpmRc.Initialize, TpmRc.Initialize.ForParameter(1));
        Assert.AreEqual(TpmRc.Lockout, TpmRc.Lockout.ForSession(1));
    }

    [TestMethod]
    public void AnIndexIsAddedOnlyOnce() => Assert.AreEqual(0x1C4u, TpmRc.Value.ForParameter(1).ForParameter(2).Code);

    [TestMethod]
    public void BaseStripsTheIndex() => Assert.AreEqual(TpmRc.Size, TpmRc.Size.ForParameter(3).Base);

    [TestMethod]
    public void ReferenceWarningsNumberHandlesAndSessions()
    {
        Assert.AreEqual(0x911u, TpmRc.ReferenceHandle(1).Code);
        Assert.AreEqual(0x918u, TpmRc.ReferenceSession(0).Code);
    }
}
