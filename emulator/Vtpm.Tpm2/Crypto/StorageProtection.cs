using System.Security.Cryptography;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// Protected storage of an object's sensitive area under its parent (Part 1 §22.3–§22.5, the TPM2B_PRIVATE of
/// TPM2_Create and TPM2_Load): the marshalled TPM2B_SENSITIVE is encrypted with AES-CFB under
/// symKey = KDFa(parent nameAlg, parent seedValue, "STORAGE", name, ∅, keyBits) and an IV of zeros (each object's
/// Name makes its key unique), then bound to the Name by
/// outerHMAC = HMAC(KDFa(parent nameAlg, parent seedValue, "INTEGRITY", ∅, ∅, digest bits), encSensitive || name).
/// The TPM2B_PRIVATE's buffer is TPM2B_DIGEST(outerHMAC) || encSensitive.
/// </summary>
public static class StorageProtection
{
    /// <summary>Wraps <paramref name="sensitive"/> of the object named <paramref name="name"/> for its parent.</summary>
    public static Tpm2bPrivate Protect(TpmAlgId parentNameAlg, ReadOnlySpan<byte> parentSeed, int symKeyBits, ReadOnlySpan<byte> name, in TpmtSensitive sensitive)
    {
        int digestSize = TpmHash.DigestSize(parentNameAlg);
        var plain = new byte[2 + TpmtSensitive.MaxSize];
        var w = new TpmWriter(plain);
        int at = w.BeginSized16();
        sensitive.Marshal(ref w);
        w.EndSized16(at);
        int length = w.Position;

        var encrypted = Cfb(parentNameAlg, parentSeed, symKeyBits, name, plain.AsSpan(0, length), encrypt: true);
        CryptographicOperations.ZeroMemory(plain);
        var hmac = OuterHmac(parentNameAlg, parentSeed, encrypted, name);

        var blob = new Tpm2bPrivate { Size = (ushort)(2 + digestSize + encrypted.Length) };
        var b = new TpmWriter(blob.Buffer);
        b.WriteSized16(hmac);
        b.WriteBytes(encrypted);
        return blob;
    }

    /// <summary>
    /// Checks and unwraps a TPM2B_PRIVATE: TPM_RC_INTEGRITY when the outer HMAC does not match (a blob of another
    /// parent, another Name, or tampered), TPM_RC_SIZE when the blob's own sizes do not add up. The caller adds the
    /// parameter number.
    /// </summary>
    public static TpmRc Unprotect(TpmAlgId parentNameAlg, ReadOnlySpan<byte> parentSeed, int symKeyBits, ReadOnlySpan<byte> name,
        in Tpm2bPrivate blob, out TpmtSensitive sensitive)
    {
        sensitive = default;
        int digestSize = TpmHash.DigestSize(parentNameAlg);
        var r = new TpmReader(blob.Span);
        if (!r.TryReadUInt16(out ushort hmacSize) || hmacSize != digestSize || !r.TryReadBytes(hmacSize, out var given)) return TpmRc.Size;
        var encrypted = r.RemainingSpan;
        if (encrypted.Length < 2) return TpmRc.Size;
        var expected = OuterHmac(parentNameAlg, parentSeed, encrypted, name);
        if (!CryptographicOperations.FixedTimeEquals(expected, given)) return TpmRc.Integrity;

        var plain = Cfb(parentNameAlg, parentSeed, symKeyBits, name, encrypted, encrypt: false);
        try
        {
            var p = new TpmReader(plain);
            // The HMAC matched, so these bytes are ours: a bad inner size means a corrupt TPM, reported as integrity.
            if (!p.TryReadUInt16(out ushort size) || size != plain.Length - 2) return TpmRc.Integrity;
            var rc = TpmtSensitive.Unmarshal(ref p, out sensitive);
            return rc.IsError || !p.AtEnd ? TpmRc.Integrity : TpmRc.Success;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    static byte[] OuterHmac(TpmAlgId nameAlg, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> name)
    {
        int digestSize = TpmHash.DigestSize(nameAlg);
        var key = Kdf.KdfA(nameAlg, seed, "INTEGRITY", [], [], digestSize * 8);
        var mac = new byte[digestSize];
        TpmHash.Hmac(nameAlg, key, [.. encrypted, .. name], mac);
        CryptographicOperations.ZeroMemory(key);
        return mac;
    }

    static byte[] Cfb(TpmAlgId nameAlg, ReadOnlySpan<byte> seed, int keyBits, ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, bool encrypt)
    {
        // Each object's Name makes its key its own, so the IV is zero.
        var key = Kdf.KdfA(nameAlg, seed, "STORAGE", name, [], keyBits);
        var result = data.ToArray();
        AesCfb.Transform(key, stackalloc byte[16], result, encrypt);
        CryptographicOperations.ZeroMemory(key);
        return result;
    }
}
