using Vtpm.Wire;

namespace Vtpm.Tests.WireFormat;

[TestClass]
public sealed class TpmReaderTests
{
    [TestMethod]
    public void ReadsBigEndianIntegers()
    {
        var r = new TpmReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F]);
        Assert.IsTrue(r.TryReadUInt8(out byte b));
        Assert.IsTrue(r.TryReadUInt16(out ushort s));
        Assert.IsTrue(r.TryReadUInt32(out uint i));
        Assert.IsTrue(r.TryReadUInt64(out ulong l));
        Assert.AreEqual((byte)0x01, b);
        Assert.AreEqual((ushort)0x0203, s);
        Assert.AreEqual(0x04050607u, i);
        Assert.AreEqual(0x08090A0B0C0D0E0FUL, l);
        Assert.IsTrue(r.AtEnd);
    }

    [TestMethod]
    [DataRow(0, 2)]
    [DataRow(1, 2)]
    [DataRow(3, 4)]
    [DataRow(7, 8)]
    public void FailedReadDoesNotMoveTheCursor(int available, int width)
    {
        var r = new TpmReader(new byte[available + 1]);
        Assert.IsTrue(r.TryReadUInt8(out _));
        int before = r.Position;
        bool ok = width switch
        {
            2 => r.TryReadUInt16(out _),
            4 => r.TryReadUInt32(out _),
            _ => r.TryReadUInt64(out _),
        };
        Assert.IsFalse(ok);
        Assert.AreEqual(before, r.Position);
    }

    [TestMethod]
    public void Sized16ReadsItsPayload()
    {
        var r = new TpmReader([0x00, 0x03, 0xAA, 0xBB, 0xCC, 0xDD]);
        Assert.AreEqual(TpmRc.Success, r.ReadSized16(out var v));
        CollectionAssert.AreEqual(new byte[] { 0xAA, 0xBB, 0xCC }, v.ToArray());
        Assert.AreEqual(1, r.Remaining);
    }

    [TestMethod]
    public void Sized16LongerThanTheBufferIsInsufficientAndDoesNotMove()
    {
        var r = new TpmReader([0x00, 0x09, 0xAA]);
        Assert.AreEqual(TpmRc.Insufficient, r.ReadSized16(out _));
        Assert.AreEqual(0, r.Position);
    }

    [TestMethod]
    public void Sized16OverTheTypeMaximumIsSizeAndDoesNotMove()
    {
        var r = new TpmReader([0x00, 0x02, 0xAA, 0xBB]);
        Assert.AreEqual(TpmRc.Size, r.ReadSized16(out _, maxSize: 1));
        Assert.AreEqual(0, r.Position);
    }

    [TestMethod]
    public void HostileLengthNeverReadsPastTheEnd()
    {
        var r = new TpmReader([0xFF, 0xFF, 0x00]);
        Assert.AreEqual(TpmRc.Insufficient, r.ReadSized16(out var v));
        Assert.AreEqual(0, v.Length);
        Assert.IsFalse(r.TryReadBytes(-1, out _));
        Assert.IsFalse(r.TryReadBytes(int.MaxValue, out _));
    }
}
