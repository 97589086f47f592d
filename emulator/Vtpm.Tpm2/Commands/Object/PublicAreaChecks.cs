using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// The checks an object template must pass before the TPM creates an object from it (Part 1 §27.2 attribute rules,
/// Part 2 §8.3 TPMA_OBJECT, Part 3 §12.1 / §24.1 response codes). Values the generated unmarshal already refused
/// (unknown algorithms, reserved bits, key sizes) do not come here. Results carry no parameter number: the caller
/// adds the template's.
/// </summary>
public static class PublicAreaChecks
{
    /// <summary>
    /// Checks <paramref name="pub"/> for an object whose parent is a hierarchy (a primary object) or a storage key
    /// with <paramref name="parentFixedTpm"/>; <paramref name="sensitiveDataSize"/> is the size of inSensitive.data.
    /// </summary>
    public static TpmRc Check(in TpmtPublic pub, bool parentFixedTpm, int sensitiveDataSize)
    {
        var a = pub.ObjectAttributes;
        bool Has(TpmaObject x) => (a & x) != 0;
        int digestSize = TpmHash.DigestSize(pub.NameAlg);

        // An authPolicy is a digest of the object's nameAlg, or empty.
        if (pub.AuthPolicy.Size != 0 && pub.AuthPolicy.Size != digestSize) return TpmRc.Size;

        // fixedTPM needs fixedParent, and a child of a non-fixedTPM parent cannot be fixedTPM (Part 1 §27.2.3).
        if (Has(TpmaObject.FixedTPM) && !Has(TpmaObject.FixedParent)) return TpmRc.Attributes;
        if (Has(TpmaObject.FixedTPM) && !parentFixedTpm) return TpmRc.Attributes;
        // encryptedDuplication only for an object that can be duplicated (Part 2 §8.3.3.1).
        if (Has(TpmaObject.EncryptedDuplication) && Has(TpmaObject.FixedTPM)) return TpmRc.Attributes;

        // Data the caller provides is not "sensitive data origin" (Part 2 §8.3.3.1.5).
        if (sensitiveDataSize > 0 && Has(TpmaObject.SensitiveDataOrigin)) return TpmRc.Attributes;

        bool sign = Has(TpmaObject.Sign), decrypt = Has(TpmaObject.Decrypt), restricted = Has(TpmaObject.Restricted);
        switch (pub.Type)
        {
            case TpmAlgId.Rsa:
            case TpmAlgId.Ecc:
            {
                // The TPM makes asymmetric keys itself: no data may be injected.
                if (sensitiveDataSize > 0) return TpmRc.Size;
                if (!Has(TpmaObject.SensitiveDataOrigin)) return TpmRc.Attributes;
                if (restricted && sign && decrypt) return TpmRc.Attributes;
                if (!sign && !decrypt) return TpmRc.Attributes;
                var symmetric = pub.Type == TpmAlgId.Rsa ? pub.Parameters.RsaDetail.Symmetric.Algorithm : pub.Parameters.EccDetail.Symmetric.Algorithm;
                var scheme = pub.Type == TpmAlgId.Rsa ? pub.Parameters.RsaDetail.Scheme.Scheme : pub.Parameters.EccDetail.Scheme.Scheme;
                if (restricted && decrypt)
                {
                    // A storage key: it protects its children with a symmetric algorithm and has no scheme.
                    if (symmetric == TpmAlgId.Null) return TpmRc.Symmetric;
                    if (scheme != TpmAlgId.Null) return TpmRc.Scheme;
                }
                else
                {
                    if (symmetric != TpmAlgId.Null) return TpmRc.Symmetric;
                    // A restricted signing key needs its scheme; a key for both uses may have none.
                    if (restricted && scheme == TpmAlgId.Null) return TpmRc.Scheme;
                    if (sign && decrypt && scheme != TpmAlgId.Null) return TpmRc.Scheme;
                }
                // The public exponent: 0 for 2^16 + 1, otherwise an odd number above 2.
                uint e = pub.Type == TpmAlgId.Rsa ? pub.Parameters.RsaDetail.Exponent : 0;
                if (e != 0 && (e < 3 || (e & 1) == 0)) return TpmRc.Value;
                return TpmRc.Success;
            }
            case TpmAlgId.Keyedhash:
            {
                var scheme = pub.Parameters.KeyedHashDetail.Scheme.Scheme;
                if (sign && decrypt) return TpmRc.Attributes;
                if (!sign && !decrypt)
                {
                    // A sealed data object: its data comes from the caller, with no scheme.
                    if (Has(TpmaObject.SensitiveDataOrigin) || restricted) return TpmRc.Attributes;
                    if (scheme != TpmAlgId.Null) return TpmRc.Scheme;
                    return TpmRc.Success;
                }
                if (sign && restricted && scheme == TpmAlgId.Null) return TpmRc.Scheme;
                if (sign && scheme is not (TpmAlgId.Hmac or TpmAlgId.Null)) return TpmRc.Scheme;
                if (decrypt && scheme is not (TpmAlgId.Xor or TpmAlgId.Null)) return TpmRc.Scheme;
                return SensitiveOrigin(Has(TpmaObject.SensitiveDataOrigin), sensitiveDataSize);
            }
            case TpmAlgId.Symcipher:
            {
                // For a symmetric key "sign" means encrypt (Part 2 §8.3.3.1.8); a restricted one only protects children.
                if (restricted && sign) return TpmRc.Attributes;
                if (!sign && !decrypt) return TpmRc.Attributes;
                return SensitiveOrigin(Has(TpmaObject.SensitiveDataOrigin), sensitiveDataSize);
            }
            default:
                return TpmRc.Type;
        }
    }

    /// <summary>A key the TPM generates has sensitiveDataOrigin SET; a key the caller gives has it CLEAR.</summary>
    static TpmRc SensitiveOrigin(bool origin, int sensitiveDataSize) =>
        origin == (sensitiveDataSize == 0) ? TpmRc.Success : TpmRc.Attributes;
}
