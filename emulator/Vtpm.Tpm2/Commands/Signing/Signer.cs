using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Signing;

/// <summary>
/// A signature over a digest with a loaded key, as TPM2_Sign and the attestation commands make it: RSASSA-PKCS1-v1_5,
/// RSASSA-PSS (salt of the digest's size), ECDSA (r and s at the curve's size) or HMAC. The scheme and hash are
/// resolved and the digest checked by the caller.
/// </summary>
public static class Signer
{
    public static void Sign(KeyObject key, TpmAlgId scheme, TpmAlgId hash, ReadOnlySpan<byte> digest, ref TpmtSignature signature)
    {
        signature.SigAlg = scheme;
        var name = TpmHash.Name(hash);
        switch (scheme)
        {
            case TpmAlgId.Rsassa:
            case TpmAlgId.Rsapss:
            {
                using var rsa = KeyMaterial.Rsa(key, withPrivate: true);
                var padding = scheme == TpmAlgId.Rsassa ? RSASignaturePadding.Pkcs1 : RSASignaturePadding.Pss;
                var sig = Tpm2bPublicKeyRsa.From(rsa.SignHash(digest.ToArray(), name, padding));
                if (scheme == TpmAlgId.Rsassa) signature.Signature.Rsassa = new TpmsSignatureRsassa { Hash = hash, Sig = sig };
                else signature.Signature.Rsapss = new TpmsSignatureRsapss { Hash = hash, Sig = sig };
                return;
            }
            case TpmAlgId.Ecdsa:
            {
                using var ecdsa = KeyMaterial.Ecdsa(key, withPrivate: true);
                var rs = ecdsa.SignHash(digest.ToArray());
                int half = rs.Length / 2;
                signature.Signature.Ecdsa = new TpmsSignatureEcdsa
                {
                    Hash = hash,
                    SignatureR = Tpm2bEccParameter.From(rs.AsSpan(0, half)),
                    SignatureS = Tpm2bEccParameter.From(rs.AsSpan(half)),
                };
                return;
            }
            default: // HMAC
            {
                signature.Signature.Hmac.HashAlg = hash;
                Span<byte> mac = stackalloc byte[TpmHash.MaxDigestSize];
                TpmHash.Hmac(hash, key.Sensitive.Sensitive.Bits.Span, digest, mac);
                mac[..TpmHash.DigestSize(hash)].CopyTo(HmacDestination(ref signature.Signature.Hmac, hash));
                return;
            }
        }
    }

    static Span<byte> HmacDestination(ref TpmtHa ha, TpmAlgId hash) => hash switch
    {
        TpmAlgId.Sha1 => ha.Digest.Sha1,
        TpmAlgId.Sha256 => ha.Digest.Sha256,
        TpmAlgId.Sha384 => ha.Digest.Sha384,
        _ => ha.Digest.Sha512,
    };
}
