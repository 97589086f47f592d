using System.Security.Cryptography;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// The key material of a primary object, derived from its hierarchy's seed and its template (Part 1 §27.1, TPM2_CreatePrimary
/// Part 3 §24.1): the same seed and template give the same key, a new seed (Clear, ChangePPS, ChangeEPS) another one.
/// Every value comes from one <see cref="KdfStream"/> keyed by the seed, whose context is the digest (by nameAlg) of
/// the marshalled template — so the template's <c>unique</c> field, which callers use as entropy, selects another
/// key. The template is taken as already checked (attributes, schemes, sizes).
/// </summary>
public static class PrimaryKeyDerivation
{
    const string Label = "Primary Object";

    /// <summary>
    /// Fills <paramref name="outPublic"/> (the template with its unique field computed) and <paramref name="sensitive"/>.
    /// <paramref name="data"/> is inSensitive.data: the sealed data of a KEYEDHASH object, or the key of a SYMCIPHER or
    /// HMAC key the caller supplies (empty: the TPM generates it).
    /// </summary>
    public static TpmRc Derive(ReadOnlySpan<byte> seed, in TpmtPublic template, ReadOnlySpan<byte> authValue, ReadOnlySpan<byte> data,
        out TpmtPublic outPublic, out TpmtSensitive sensitive)
    {
        var buffer = new byte[TpmtPublic.MaxSize];
        var w = new TpmWriter(buffer);
        template.Marshal(ref w);
        // An unimplemented nameAlg gets its TPM_RC_HASH from Generate before the stream is used.
        var templateDigest = TpmHash.IsImplemented(template.NameAlg) ? TpmHash.Hash(template.NameAlg, w.Written) : [];
        using var stream = new KdfStream(template.NameAlg, seed, Label, templateDigest);
        return Generate(stream, template, authValue, data, out outPublic, out sensitive);
    }

    /// <summary>
    /// The key material of an object from <paramref name="stream"/>: a primary's seed-keyed stream, or for an ordinary
    /// object (TPM2_Create) a stream keyed with fresh bytes of the TPM's DRBG.
    /// </summary>
    public static TpmRc Generate(KdfStream stream, in TpmtPublic template, ReadOnlySpan<byte> authValue, ReadOnlySpan<byte> data,
        out TpmtPublic outPublic, out TpmtSensitive sensitive)
    {
        outPublic = template;
        sensitive = default;
        var nameAlg = template.NameAlg;
        int digestSize = TpmHash.DigestSize(nameAlg);
        if (digestSize == 0) return TpmRc.Hash;

        sensitive.SensitiveType = template.Type;
        sensitive.AuthValue = Tpm2bAuth.From(authValue);
        var attributes = template.ObjectAttributes;
        bool storageParent = (attributes & TpmaObject.Restricted) != 0 && (attributes & TpmaObject.Decrypt) != 0;
        bool obfuscated = template.Type is TpmAlgId.Keyedhash or TpmAlgId.Symcipher;
        if (storageParent || obfuscated) sensitive.SeedValue = Tpm2bDigest.From(stream.Next(digestSize));

        switch (template.Type)
        {
            case TpmAlgId.Rsa:
            {
                ref readonly var rsa = ref template.Parameters.RsaDetail;
                if (rsa.KeyBits is not (1024 or 2048 or 3072 or 4096)) return TpmRc.KeySize;
                var key = RsaKeyGeneration.Generate(stream, rsa.KeyBits, rsa.Exponent);
                outPublic.Unique.Rsa = Tpm2bPublicKeyRsa.From(Fixed(key.Modulus, rsa.KeyBits / 8));
                sensitive.Sensitive.Rsa = Tpm2bPrivateKeyRsa.From(Fixed(key.P, rsa.KeyBits / 16));
                return TpmRc.Success;
            }
            case TpmAlgId.Ecc:
            {
                var curve = template.Parameters.EccDetail.CurveID;
                if (!EccCurves.IsImplemented(curve)) return TpmRc.Curve;
                int size = EccCurves.CoordinateSize(curve);
                var (d, q) = EccCurves.Generate(stream, curve);
                outPublic.Unique.Ecc.X = Tpm2bEccParameter.From(EccCurves.ToFixed(q.AffineXCoord.ToBigInteger(), size));
                outPublic.Unique.Ecc.Y = Tpm2bEccParameter.From(EccCurves.ToFixed(q.AffineYCoord.ToBigInteger(), size));
                sensitive.Sensitive.Ecc = Tpm2bEccParameter.From(EccCurves.ToFixed(d, size));
                return TpmRc.Success;
            }
            case TpmAlgId.Keyedhash:
            {
                // Sealed data or a caller's HMAC key as given; otherwise an HMAC key of the scheme's digest size.
                byte[] bits = data.Length > 0 ? data.ToArray() : stream.Next(digestSize);
                sensitive.Sensitive.Bits = Tpm2bSensitiveData.From(bits);
                outPublic.Unique.KeyedHash = Tpm2bDigest.From(UniqueOf(nameAlg, sensitive.SeedValue.Span, bits));
                return TpmRc.Success;
            }
            case TpmAlgId.Symcipher:
            {
                ref readonly var sym = ref template.Parameters.SymDetail.Sym;
                int keyBytes = sym.KeyBits.Aes / 8;
                if (sym.Algorithm != TpmAlgId.Aes || keyBytes is not (16 or 24 or 32)) return TpmRc.KeySize;
                if (data.Length > 0 && data.Length != keyBytes) return TpmRc.KeySize;
                byte[] key = data.Length > 0 ? data.ToArray() : stream.Next(keyBytes);
                sensitive.Sensitive.Sym = Tpm2bSymKey.From(key);
                outPublic.Unique.Sym = Tpm2bDigest.From(UniqueOf(nameAlg, sensitive.SeedValue.Span, key));
                CryptographicOperations.ZeroMemory(key);
                return TpmRc.Success;
            }
            default:
                return TpmRc.Type;
        }
    }

    /// <summary>Part 1 §27.2.3: the unique field of a KEYEDHASH or SYMCIPHER object, H(seedValue || sensitive).</summary>
    public static byte[] UniqueOf(TpmAlgId nameAlg, ReadOnlySpan<byte> seedValue, ReadOnlySpan<byte> sensitive) =>
        TpmHash.Hash(nameAlg, [.. seedValue, .. sensitive]);

    static byte[] Fixed(Org.BouncyCastle.Math.BigInteger v, int size) => EccCurves.ToFixed(v, size);
}
