using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Vtpm.Tests.Interop;

/// <summary>tpm2_nv* tools: every index type, with and without authorization values.</summary>
[TestClass]
public sealed class InteropNvTests
{
    const string Index = "0x1500016";
    const uint TpmaNvWritten = 0x20000000;

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void OrdinaryIndexRoundTripsDataAndReportsItsPublicArea(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite|authread|authwrite");
        var pub = t.Run("tpm2_nvreadpublic", Index).Stdout;
        Assert.AreEqual(32ul, InteropTpm.Number(pub, "size"));
        Assert.AreEqual(0x60006ul, Attributes(pub), "attributes before the first write");
        AssertName(pub, 0x01500016, 0x00060006, 32);
        InteropTpm.AssertRc(t.Fail("tpm2_nvread", Index, "-s", "4"), 0x14A); // TPM_RC_NV_UNINITIALIZED

        var data = "hello, nv"u8.ToArray();
        t.Run("tpm2_nvwrite", Index, "-i", t.File("d.bin", data));
        t.Run("tpm2_nvread", Index, "-s", data.Length.ToString(CultureInfo.InvariantCulture), "-o", t.PathOf("out.bin"));
        CollectionAssert.AreEqual(data, t.Read("out.bin"));
        t.Run("tpm2_nvwrite", Index, "-i", t.File("d2.bin", "XY"u8.ToArray()), "--offset=3");
        t.Run("tpm2_nvread", Index, "-C", "o", "-s", "9", "-o", t.PathOf("out2.bin"));
        CollectionAssert.AreEqual("helXY, nv"u8.ToArray(), t.Read("out2.bin"));
        // (Writing past the end is refused by tpm2_nvwrite itself; the differential NvOrdinary sequence sends it raw.)

        pub = t.Run("tpm2_nvreadpublic", Index).Stdout;
        Assert.AreEqual(0x60006ul | TpmaNvWritten, Attributes(pub), "TPMA_NV_WRITTEN after the write");
        AssertName(pub, 0x01500016, 0x00060006 | TpmaNvWritten, 32);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void IndexPasswordIsRequiredForAuthReadAndWrite(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "16", "-a", "authread|authwrite", "-p", "idxpass");
        var data = "secret"u8.ToArray();
        t.Run("tpm2_nvwrite", Index, "-C", Index, "-P", "idxpass", "-i", t.File("d.bin", data));
        t.Run("tpm2_nvread", Index, "-C", Index, "-P", "idxpass", "-s", "6", "-o", t.PathOf("o.bin"));
        CollectionAssert.AreEqual(data, t.Read("o.bin"));
        // A wrong password on a DA-protected index: TPM_RC_AUTH_FAIL for session 1 (0x98E).
        InteropTpm.AssertRc(t.Fail("tpm2_nvread", Index, "-C", Index, "-P", "wrong", "-s", "6"), 0x98E);
        // The owner cannot read an index without OWNERREAD: TPM_RC_NV_AUTHORIZATION (0x149).
        InteropTpm.AssertRc(t.Fail("tpm2_nvread", Index, "-C", "o", "-s", "6"), 0x149);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void OwnerPasswordAuthorizesDefineAndOwnerRead(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_changeauth", "-c", "owner", "ownerpw");
        InteropTpm.AssertRc(t.Fail("tpm2_nvdefine", Index, "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite"), 0x9A2); // TPM_RC_BAD_AUTH
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-P", "ownerpw", "-s", "8", "-a", "ownerread|ownerwrite");
        t.Run("tpm2_nvwrite", Index, "-C", "o", "-P", "ownerpw", "-i", t.File("d.bin", [1, 2, 3, 4, 5, 6, 7, 8]));
        t.Run("tpm2_nvread", Index, "-C", "o", "-P", "ownerpw", "-s", "8", "-o", t.PathOf("o.bin"));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, t.Read("o.bin"));
        t.Run("tpm2_nvundefine", Index, "-C", "o", "-P", "ownerpw");
        Assert.AreEqual(0, t.Handles("handles-nv-index").Count);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void CounterIndexIncrementsFromOne(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "8", "-a", "nt=counter|ownerread|ownerwrite|authread|authwrite", "-p", "cpw");
        // A counter starts from the TPM-wide maximum (0 on a fresh TPM), so the first increment gives 1.
        t.Run("tpm2_nvincrement", Index, "-C", Index, "-P", "cpw");
        Assert.AreEqual(1ul, ReadU64(t, Index));
        t.Run("tpm2_nvincrement", Index, "-C", "o");
        Assert.AreEqual(2ul, ReadU64(t, Index));
        // A counter cannot be written with NV_Write (Part 3 §31.5): TPM_RC_ATTRIBUTES (0x082). The reference
        // code and swtpm return it without a handle number.
        InteropTpm.AssertRc(t.Fail("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("x", new byte[8])), 0x082);
        var pub = t.Run("tpm2_nvreadpublic", Index).Stdout;
        StringAssert.Contains(pub, "nt=0x1");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void ExtendIndexHashesOldValueWithData(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "32", "-g", "sha256", "-a", "nt=extend|ownerread|ownerwrite|authread|authwrite");
        var a = "measurement one"u8.ToArray();
        var b = "measurement two"u8.ToArray();
        t.Run("tpm2_nvextend", Index, "-C", "o", "-i", t.File("a", a));
        // Part 3 §31.9: an extend index starts as zeros of the digest size; new = H(old || data).
        var expected = SHA256.HashData([.. new byte[32], .. a]);
        CollectionAssert.AreEqual(expected, ReadAll(t, Index, 32));
        t.Run("tpm2_nvextend", Index, "-C", Index, "-i", t.File("b", b));
        expected = SHA256.HashData([.. expected, .. b]);
        CollectionAssert.AreEqual(expected, ReadAll(t, Index, 32));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void BitsIndexOrsInTheBits(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-a", "nt=bits|ownerread|ownerwrite|authread|authwrite");
        t.Run("tpm2_nvsetbits", Index, "-C", "o", "-i", "0x5");
        Assert.AreEqual(0x5ul, ReadU64(t, Index));
        t.Run("tpm2_nvsetbits", Index, "-i", "0x8000000000000100");
        Assert.AreEqual(0x8000000000000105ul, ReadU64(t, Index));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void WriteLockBlocksWritesUntilTheNextStartupClear(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite|authread|authwrite|write_stclear");
        t.Run("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("a", [1, 1, 1, 1]));
        t.Run("tpm2_nvwritelock", Index, "-C", "o");
        InteropTpm.AssertRc(t.Fail("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("b", [2, 2, 2, 2])), 0x148); // TPM_RC_NV_LOCKED
        CollectionAssert.AreEqual(new byte[] { 1, 1, 1, 1 }, ReadAll(t, Index, 4));
        StringAssert.Contains(t.Run("tpm2_nvreadpublic", Index).Stdout, "writelocked");
        // TPMA_NV_WRITE_STCLEAR: the lock is released by TPM Reset (Startup(CLEAR)).
        t.Reboot();
        t.Run("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("c", [3, 3, 3, 3]));
        CollectionAssert.AreEqual(new byte[] { 3, 3, 3, 3 }, ReadAll(t, Index, 4));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void ReadLockBlocksReadsButNotWrites(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", Index, "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite|authread|authwrite|read_stclear");
        t.Run("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("a", [9, 8, 7, 6]));
        CollectionAssert.AreEqual(new byte[] { 9, 8, 7, 6 }, ReadAll(t, Index, 4));
        t.Run("tpm2_nvreadlock", Index, "-C", "o");
        InteropTpm.AssertRc(t.Fail("tpm2_nvread", Index, "-C", "o", "-s", "4"), 0x148);
        t.Run("tpm2_nvwrite", Index, "-C", "o", "-i", t.File("b", [1, 2, 3, 4]));
        StringAssert.Contains(t.Run("tpm2_nvreadpublic", Index).Stdout, "readlocked");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void UndefineRemovesTheIndex(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_nvdefine", "0x1500020", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite");
        t.Run("tpm2_nvdefine", "0x1500021", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite");
        // Defining an existing index: TPM_RC_NV_DEFINED (0x14C).
        InteropTpm.AssertRc(t.Fail("tpm2_nvdefine", "0x1500020", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite"), 0x14C);
        CollectionAssert.AreEqual(new List<uint> { 0x1500020, 0x1500021 }, t.Handles("handles-nv-index"));
        t.Run("tpm2_nvundefine", "0x1500020", "-C", "o");
        CollectionAssert.AreEqual(new List<uint> { 0x1500021 }, t.Handles("handles-nv-index"));
        // The index is gone: TPM_RC_HANDLE for handle 1 (0x18B).
        InteropTpm.AssertRc(t.Fail("tpm2_nvreadpublic", "0x1500020"), 0x18B);
    }

    /// <summary>Name of an NV index = nameAlg || H(TPMS_NV_PUBLIC) (Part 1 §16, Part 2 §13.5) with an empty authPolicy.</summary>
    static void AssertName(string readPublic, uint index, uint attributes, ushort size)
    {
        var pub = new byte[4 + 2 + 4 + 2 + 2];
        BinaryPrimitives.WriteUInt32BigEndian(pub, index);
        BinaryPrimitives.WriteUInt16BigEndian(pub.AsSpan(4), 0x000B);
        BinaryPrimitives.WriteUInt32BigEndian(pub.AsSpan(6), attributes);
        BinaryPrimitives.WriteUInt16BigEndian(pub.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(pub.AsSpan(12), size);
        string expected = "000B" + Convert.ToHexString(SHA256.HashData(pub));
        Assert.AreEqual(expected, InteropTpm.Field(readPublic, "name").ToUpperInvariant(), readPublic);
    }

    /// <summary>The TPMA_NV value from tpm2_nvreadpublic ("attributes:\n  friendly: …\n  value: 0x…").</summary>
    static ulong Attributes(string readPublic)
    {
        var m = System.Text.RegularExpressions.Regex.Match(readPublic, @"attributes:\s*\n\s*friendly:.*\n\s*value:\s*0x([0-9A-Fa-f]+)");
        Assert.IsTrue(m.Success, readPublic);
        return ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    static byte[] ReadAll(InteropTpm t, string index, int size)
    {
        t.Run("tpm2_nvread", index, "-C", "o", "-s", size.ToString(CultureInfo.InvariantCulture), "-o", t.PathOf("read.bin"));
        return t.Read("read.bin");
    }

    static ulong ReadU64(InteropTpm t, string index) => BinaryPrimitives.ReadUInt64BigEndian(ReadAll(t, index, 8));
}
