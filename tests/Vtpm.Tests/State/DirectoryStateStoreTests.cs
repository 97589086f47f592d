using System.Buffers.Binary;
using Vtpm.Tpm2.State;

namespace Vtpm.Tests.State;

[TestClass]
public sealed class DirectoryStateStoreTests
{
    static readonly byte[] Payload = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))];
    static readonly StateKey Key = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    static readonly StateKey OtherKey = new(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

    string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-store-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    string PermallPath => Path.Combine(_dir, "tpm2-00.permall");

    [TestMethod]
    public void FileNames_AreSwtpms()
    {
        Assert.AreEqual("tpm2-00.permall", DirectoryStateStore.FileName(StateBlobKind.Permanent));
        Assert.AreEqual("tpm2-00.volatilestate", DirectoryStateStore.FileName(StateBlobKind.Volatile));
        Assert.AreEqual("tpm2-00.savestate", DirectoryStateStore.FileName(StateBlobKind.SaveState));
    }

    [TestMethod]
    [DataRow(StateBlobKind.Permanent)]
    [DataRow(StateBlobKind.Volatile)]
    [DataRow(StateBlobKind.SaveState)]
    public void Save_ThenLoad_ReturnsThePayload(StateBlobKind kind)
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(kind, Payload);
        CollectionAssert.AreEqual(Payload, s.Load(kind));
        Assert.IsTrue(File.Exists(Path.Combine(_dir, DirectoryStateStore.FileName(kind))));
    }

    [TestMethod]
    public void Load_MissingBlob_ReturnsNull()
    {
        using var s = new DirectoryStateStore(_dir);
        Assert.IsNull(s.Load(StateBlobKind.SaveState));
    }

    [TestMethod]
    public void Save_ReplacesTheOldBlobAndLeavesNoTemporaryFile()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, [1, 2, 3]);
        s.Save(StateBlobKind.Permanent, Payload);
        CollectionAssert.AreEqual(Payload, s.Load(StateBlobKind.Permanent));
        var names = Directory.GetFiles(_dir).Select(Path.GetFileName).Order().ToArray();
        CollectionAssert.AreEqual(new[] { ".lock", "tpm2-00.permall" }, names);
    }

    [TestMethod]
    public void Save_SurvivesAReopenOfTheDirectory()
    {
        using (var s = new DirectoryStateStore(_dir)) s.Save(StateBlobKind.Permanent, Payload);
        using var again = new DirectoryStateStore(_dir);
        CollectionAssert.AreEqual(Payload, again.Load(StateBlobKind.Permanent));
    }

    [TestMethod]
    public void Delete_RemovesTheFile()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Volatile, Payload);
        s.Delete(StateBlobKind.Volatile);
        Assert.IsNull(s.Load(StateBlobKind.Volatile));
        Assert.IsFalse(File.Exists(Path.Combine(_dir, "tpm2-00.volatilestate")));
        s.Delete(StateBlobKind.Volatile); // deleting a missing blob is not an error
    }

    [TestMethod]
    [DataRow(0, DisplayName = "magic")]
    [DataRow(5, DisplayName = "format version")]
    [DataRow(11, DisplayName = "blob kind")]
    [DataRow(19, DisplayName = "payload length")]
    [DataRow(20, DisplayName = "payload first byte")]
    [DataRow(200, DisplayName = "payload middle")]
    [DataRow(-1, DisplayName = "digest last byte")]
    public void Load_FlippedByte_IsRefusedNamingTheFile(int offset)
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, Payload);
        var raw = File.ReadAllBytes(PermallPath);
        raw[offset < 0 ? raw.Length + offset : offset] ^= 0x01;
        File.WriteAllBytes(PermallPath, raw);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, PermallPath);
        Assert.AreEqual(PermallPath, e.Location);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(10)]
    [DataRow(20)]
    [DataRow(100)]
    [DataRow(-1)]
    public void Load_TruncatedFile_IsRefusedNamingTheFile(int keep)
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, Payload);
        var raw = File.ReadAllBytes(PermallPath);
        File.WriteAllBytes(PermallPath, raw[..(keep < 0 ? raw.Length + keep : keep)]);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, PermallPath);
    }

    [TestMethod]
    public void Load_AppendedBytes_AreRefused()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, Payload);
        File.AppendAllText(PermallPath, "x");
        Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
    }

    [TestMethod]
    public void Load_BlobOfAnotherKind_IsRefused()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Volatile, Payload);
        File.Copy(Path.Combine(_dir, "tpm2-00.volatilestate"), PermallPath);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, "kind");
    }

    [TestMethod]
    public void Load_BlobNeedingANewerReader_IsRefused()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, Payload);
        var raw = File.ReadAllBytes(PermallPath);
        BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan(6), StateEnvelope.FormatVersion + 1);
        File.WriteAllBytes(PermallPath, raw);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, "reader");
    }

    [TestMethod]
    public void Encrypted_SaveThenLoad_ReturnsThePayload()
    {
        using var s = new DirectoryStateStore(_dir, Key);
        s.Save(StateBlobKind.Permanent, Payload);
        CollectionAssert.AreEqual(Payload, s.Load(StateBlobKind.Permanent));
    }

    [TestMethod]
    public void Encrypted_FileDoesNotContainThePlaintext()
    {
        using var s = new DirectoryStateStore(_dir, Key);
        s.Save(StateBlobKind.Permanent, Payload);
        var raw = File.ReadAllBytes(PermallPath);
        Assert.AreEqual(-1, raw.AsSpan().IndexOf(Payload.AsSpan(20, 16)));
    }

    [TestMethod]
    public void Encrypted_EachWriteUsesAFreshNonce()
    {
        using var s = new DirectoryStateStore(_dir, Key);
        s.Save(StateBlobKind.Permanent, Payload);
        var first = File.ReadAllBytes(PermallPath);
        s.Save(StateBlobKind.Permanent, Payload);
        var second = File.ReadAllBytes(PermallPath);
        CollectionAssert.AreNotEqual(first, second);
    }

    [TestMethod]
    public void Encrypted_WrongKey_IsRefusedNamingTheFile()
    {
        using (var s = new DirectoryStateStore(_dir, Key)) s.Save(StateBlobKind.Permanent, Payload);
        using var other = new DirectoryStateStore(_dir, OtherKey);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => other.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, PermallPath);
    }

    [TestMethod]
    public void Encrypted_WithoutKey_IsRefused()
    {
        using (var s = new DirectoryStateStore(_dir, Key)) s.Save(StateBlobKind.Permanent, Payload);
        using var plain = new DirectoryStateStore(_dir);
        var e = Assert.ThrowsExactly<StateCorruptException>(() => plain.Load(StateBlobKind.Permanent));
        StringAssert.Contains(e.Message, "key");
    }

    [TestMethod]
    public void Plain_LoadedWithAKey_IsRefused()
    {
        using (var s = new DirectoryStateStore(_dir)) s.Save(StateBlobKind.Permanent, Payload);
        using var keyed = new DirectoryStateStore(_dir, Key);
        Assert.ThrowsExactly<StateCorruptException>(() => keyed.Load(StateBlobKind.Permanent));
    }

    [TestMethod]
    [DataRow(4, DisplayName = "header (associated data)")]
    [DataRow(25, DisplayName = "nonce")]
    [DataRow(40, DisplayName = "ciphertext")]
    [DataRow(-1, DisplayName = "tag")]
    public void Encrypted_FlippedByte_IsRefused(int offset)
    {
        using var s = new DirectoryStateStore(_dir, Key);
        s.Save(StateBlobKind.Permanent, Payload);
        var raw = File.ReadAllBytes(PermallPath);
        raw[offset < 0 ? raw.Length + offset : offset] ^= 0x80;
        File.WriteAllBytes(PermallPath, raw);
        Assert.ThrowsExactly<StateCorruptException>(() => s.Load(StateBlobKind.Permanent));
    }

    [TestMethod]
    public void SecondStoreOnTheSameDirectory_IsRefusedUntilTheFirstIsDisposed()
    {
        var first = new DirectoryStateStore(_dir);
        var e = Assert.ThrowsExactly<StateLockedException>(() => new DirectoryStateStore(_dir));
        StringAssert.Contains(e.Message, _dir);
        first.Dispose();
        using var second = new DirectoryStateStore(_dir);
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Blobs_AreWrittenWithMode0640ByDefault()
    {
        using var s = new DirectoryStateStore(_dir);
        s.Save(StateBlobKind.Permanent, Payload);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(PermallPath));
    }
}
