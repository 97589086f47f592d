using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Signing;

/// <summary>
/// TPM 2.0 Part 3 §20.1 TPM2_VerifySignature: checks a signature over a digest with a loaded key (a public-only one
/// from TPM2_LoadExternal too) and returns a TPM_ST_VERIFIED ticket. Response codes: TPM_RC_ATTRIBUTES (not a signing
/// key, handle 1), TPM_RC_SCHEME (a signature of another kind than the key's, parameter 2), TPM_RC_SIGNATURE (it does
/// not verify, parameter 2).
/// </summary>
public static class VerifySignature
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in VerifySignatureIn input, ref VerifySignatureOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || !key.Has(TpmaObject.Sign)) return TpmRc.Attributes.ForHandle(1);
        ref readonly var s = ref input.Signature;
        var digest = input.Digest.Span;
        bool valid;
        switch (s.SigAlg)
        {
            case TpmAlgId.Rsassa or TpmAlgId.Rsapss when key.Public.Type == TpmAlgId.Rsa:
            {
                var (hash, sig) = s.SigAlg == TpmAlgId.Rsassa
                    ? (s.Signature.Rsassa.Hash, s.Signature.Rsassa.Sig.ToArray())
                    : (s.Signature.Rsapss.Hash, s.Signature.Rsapss.Sig.ToArray());
                if (digest.Length != TpmHash.DigestSize(hash)) return TpmRc.Signature.ForParameter(2);
                using var rsa = KeyMaterial.Rsa(key, withPrivate: false);
                valid = rsa.VerifyHash(digest, sig, TpmHash.Name(hash), s.SigAlg == TpmAlgId.Rsassa ? RSASignaturePadding.Pkcs1 : RSASignaturePadding.Pss);
                break;
            }
            case TpmAlgId.Ecdsa when key.Public.Type == TpmAlgId.Ecc:
            {
                using var ecdsa = KeyMaterial.Ecdsa(key, withPrivate: false);
                int size = EccCurves.CoordinateSize(key.Public.Parameters.EccDetail.CurveID);
                var r = s.Signature.Ecdsa.SignatureR.Span;
                var sv = s.Signature.Ecdsa.SignatureS.Span;
                if (r.Length > size || sv.Length > size) return TpmRc.Signature.ForParameter(2);
                var rs = new byte[2 * size];
                r.CopyTo(rs.AsSpan(size - r.Length));
                sv.CopyTo(rs.AsSpan(2 * size - sv.Length));
                valid = ecdsa.VerifyHash(digest, rs);
                break;
            }
            case TpmAlgId.Hmac when key.Public.Type == TpmAlgId.Keyedhash:
            {
                var hash = s.Signature.Hmac.HashAlg;
                if (!TpmHash.IsImplemented(hash)) return TpmRc.Scheme.ForParameter(2);
                Span<byte> mac = stackalloc byte[TpmHash.MaxDigestSize];
                int n = TpmHash.Hmac(hash, key.Sensitive.Sensitive.Bits.Span, digest, mac);
                ReadOnlySpan<byte> given = hash switch
                {
                    TpmAlgId.Sha1 => s.Signature.Hmac.Digest.Sha1,
                    TpmAlgId.Sha256 => s.Signature.Hmac.Digest.Sha256,
                    TpmAlgId.Sha384 => s.Signature.Hmac.Digest.Sha384,
                    _ => s.Signature.Hmac.Digest.Sha512,
                };
                valid = CryptographicOperations.FixedTimeEquals(mac[..n], given);
                break;
            }
            default:
                return TpmRc.Scheme.ForParameter(2);
        }
        if (!valid) return TpmRc.Signature.ForParameter(2);

        // Part 2 §10.7.4: HMAC(proof, TPM_ST_VERIFIED || digest || keyName); the NULL ticket for the null hierarchy.
        output.Validation = new TpmtTkVerified { Tag = TpmSt.Verified, Hierarchy = key.Hierarchy };
        if (key.Hierarchy == (uint)TpmRh.Null) return TpmRc.Success;
        Span<byte> ticket = stackalloc byte[TpmHash.MaxDigestSize];
        int length = Tickets.Compute(tpm.Hmacs, tpm.Hierarchy.GetProof(key.Hierarchy), TpmSt.Verified, digest, key.Name, ticket);
        output.Validation.Digest = Tpm2bDigest.From(ticket[..length]);
        return TpmRc.Success;
    }
}
