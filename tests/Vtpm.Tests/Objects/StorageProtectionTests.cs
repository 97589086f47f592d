using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Objects;

/// <summary>
/// Protected storage of a sensitive area (Part 1 §22.3–§22.5): what one parent wraps for one Name it unwraps again;
/// the outer HMAC refuses a blob for another Name, another parent or with any byte changed; and the layout is the
/// specification's, recomputed here with .NET's primitives: TPM2B_DIGEST(outerHMAC) || AES-CFB(symKey, 0, TPM2B_SENSITIVE).
/// </summary>
[TestClass]
public sealed class StorageProtectionTests
{
    static readonly byte[] ParentSeed = SHA256.HashData("parent seedValue"u8);
    static readonly byte[] Name = [0x00, 0x0B, .. SHA256.HashData("object public area"u8)];

    static TpmtSensitive Sensitive()
    {
        var s = new TpmtSensitive { SensitiveType = TpmAlgId.Keyedhash, AuthValue = Tpm2bAuth.From("pw"u8), SeedValue = Tpm2bDigest.From(new byte[32]) };
        s.Sensitive.Bits = Tpm2bSensitiveData.From("sealed secret"u8);
        return s;
    }

    [TestMethod]
    public void WrappedSensitiveUnwrapsUnderTheSameParentAndName()
    {
        var blob = StorageProtection.Protect(TpmAlgId.Sha256, ParentSeed, 128, Name, Sensitive());
        Assert.AreEqual(TpmRc.Success, StorageProtection.Unprotect(TpmAlgId.Sha256, ParentSeed, 128, Name, blob, out var back));
        CollectionAssert.AreEqual("sealed secret"u8.ToArray(), back.Sensitive.Bits.ToArray());
        CollectionAssert.AreEqual("pw"u8.ToArray(), back.AuthValue.ToArray());
    }

    [TestMethod]
    public void LayoutIsOuterHmacThenCfbEncryptedSensitive()
    {
        var s = Sensitive();
        var blob = StorageProtection.Protect(TpmAlgId.Sha256, ParentSeed, 128, Name, s);
        var bytes = blob.ToArray();
        Assert.AreEqual(32, (bytes[0] << 8) | bytes[1], "outerHMAC is a TPM2B_DIGEST of the parent's nameAlg");
        var encrypted = bytes[34..];

        var plain = new byte[2 + TpmtSensitive.MaxSize];
        var w = new TpmWriter(plain);
        int at = w.BeginSized16();
        s.Marshal(ref w);
        w.EndSized16(at);
        using var aes = Aes.Create();
        aes.Key = Kdf.KdfA(TpmAlgId.Sha256, ParentSeed, "STORAGE", Name, [], 128);
        var padded = new byte[(w.Position + 15) / 16 * 16];
        plain.AsSpan(0, w.Position).CopyTo(padded);
        var expected = aes.EncryptCfb(padded, new byte[16], PaddingMode.None, 128)[..w.Position];
        CollectionAssert.AreEqual(expected, encrypted);

        var hmacKey = Kdf.KdfA(TpmAlgId.Sha256, ParentSeed, "INTEGRITY", [], [], 256);
        CollectionAssert.AreEqual(HMACSHA256.HashData(hmacKey, encrypted.Concat(Name).ToArray()), bytes[2..34]);
    }

    [TestMethod]
    public void BlobForAnotherNameIsTpmRcIntegrity()
    {
        var blob = StorageProtection.Protect(TpmAlgId.Sha256, ParentSeed, 128, Name, Sensitive());
        byte[] other = [.. Name[..^1], (byte)(Name[^1] ^ 1)];
        Assert.AreEqual(TpmRc.Integrity, StorageProtection.Unprotect(TpmAlgId.Sha256, ParentSeed, 128, other, blob, out _));
    }

    [TestMethod]
    public void BlobOfAnotherParentIsTpmRcIntegrity()
    {
        var blob = StorageProtection.Protect(TpmAlgId.Sha256, ParentSeed, 128, Name, Sensitive());
        Assert.AreEqual(TpmRc.Integrity, StorageProtection.Unprotect(TpmAlgId.Sha256, SHA256.HashData("other"u8), 128, Name, blob, out _));
    }

    [TestMethod]
    public void EveryFlippedByteIsDetected()
    {
        var blob = StorageProtection.Protect(TpmAlgId.Sha256, ParentSeed, 128, Name, Sensitive());
        var bytes = blob.ToArray();
        for (int i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            var rc = StorageProtection.Unprotect(TpmAlgId.Sha256, ParentSeed, 128, Name, Tpm2bPrivate.From(tampered), out _);
            Assert.IsTrue(rc == TpmRc.Integrity || rc == TpmRc.Size, $"byte {i}: {rc}");
        }
    }

    [TestMethod]
    public void TruncatedBlobIsTpmRcSize() =>
        Assert.AreEqual(TpmRc.Size, StorageProtection.Unprotect(TpmAlgId.Sha256, ParentSeed, 128, Name, Tpm2bPrivate.From([0, 32, 1, 2]), out _));
}
