using Vtpm.Wire;

namespace Vtpm.Tests.WireFormat;

[TestClass]
public sealed class TpmWriterTests
{
    [TestMethod]
    public void WritesBigEndianIntegers()
    {
        var buf = new byte[15];
        var w = new TpmWriter(buf);
        w.WriteUInt8(0x01);
        w.WriteUInt16(0x0203);
        w.WriteUInt32(0x04050607);
        w.WriteUInt64(0x08090A0B0C0D0E0F);
        Assert.IsFalse(w.Overflowed);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }, buf);
    }

    [TestMethod]
    public void RunningOutOfRoomSetsOverflowedInsteadOfThrowing()
    {
        var w = new TpmWriter(new byte[3]);
        w.WriteUInt16(1);
        w.WriteUInt16(2);
        Assert.IsTrue(w.Overflowed);
        Assert.AreEqual(2, w.Position);
        w.WriteUInt8(3);
        Assert.AreEqual(2, w.Position, "writes after an overflow are ignored");
    }

    [TestMethod]
    public void Sized16BackPatchesTheLength()
    {
        var buf = new byte[8];
        var w = new TpmWriter(buf);
        int at = w.BeginSized16();
        w.WriteUInt32(0xDEADBEEF);
        w.EndSized16(at);
        CollectionAssert.AreEqual(new byte[] { 0, 4, 0xDE, 0xAD, 0xBE, 0xEF }, w.Written.ToArray());
    }

    [TestMethod]
    public void TruncateForgetsAnOverflow()
    {
        var w = new TpmWriter(new byte[2]);
        w.WriteUInt32(1);
        Assert.IsTrue(w.Overflowed);
        w.Truncate(0);
        Assert.IsFalse(w.Overflowed);
        w.WriteUInt16(7);
        Assert.AreEqual(2, w.Position);
    }
}
