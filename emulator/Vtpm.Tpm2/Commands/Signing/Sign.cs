using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Signing;

/// <summary>
/// TPM 2.0 Part 3 §20.2 TPM2_Sign: signs a digest with a loaded signing key — RSASSA-PKCS1-v1_5, RSASSA-PSS (salt of
/// the digest's size), ECDSA (r and s at the curve's size) or HMAC. A restricted key signs only a digest the TPM
/// hashed itself, proven by a hash-check ticket. Response codes: TPM_RC_KEY (not a signing key, or a public key
/// without its private part, handle 1),
/// TPM_RC_SIZE (digest not of the scheme's hash size, parameter 1), TPM_RC_SCHEME (parameter 2), TPM_RC_TICKET
/// (restricted key without a valid ticket, parameter 3).
/// </summary>
public static class Sign
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SignIn input, ref SignOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || !key.Has(TpmaObject.Sign) || key.IsPublicOnly) return TpmRc.Key.ForHandle(1);
        var rc = SigningScheme.Resolve(key, input.InScheme, out var scheme, out var hash);
        if (rc.IsError) return rc.ForParameter(2);
        var digest = input.Digest.Span;
        if (digest.Length != TpmHash.DigestSize(hash)) return TpmRc.Size.ForParameter(1);
        if (key.Has(TpmaObject.Restricted) && !TicketVouchesFor(tpm, input.Validation, digest)) return TpmRc.Ticket.ForParameter(3);

        output.Signature.SigAlg = scheme;
        var name = TpmHash.Name(hash);
        switch (scheme)
        {
            case TpmAlgId.Rsassa:
            case TpmAlgId.Rsapss:
            {
                using var rsa = KeyMaterial.Rsa(key, withPrivate: true);
                var padding = scheme == TpmAlgId.Rsassa ? RSASignaturePadding.Pkcs1 : RSASignaturePadding.Pss;
                var sig = Tpm2bPublicKeyRsa.From(rsa.SignHash(digest.ToArray(), name, padding));
                if (scheme == TpmAlgId.Rsassa) output.Signature.Signature.Rsassa = new TpmsSignatureRsassa { Hash = hash, Sig = sig };
                else output.Signature.Signature.Rsapss = new TpmsSignatureRsapss { Hash = hash, Sig = sig };
                return TpmRc.Success;
            }
            case TpmAlgId.Ecdsa:
            {
                using var ecdsa = KeyMaterial.Ecdsa(key, withPrivate: true);
                var rs = ecdsa.SignHash(digest.ToArray());
                int half = rs.Length / 2;
                output.Signature.Signature.Ecdsa = new TpmsSignatureEcdsa
                {
                    Hash = hash,
                    SignatureR = Tpm2bEccParameter.From(rs.AsSpan(0, half)),
                    SignatureS = Tpm2bEccParameter.From(rs.AsSpan(half)),
                };
                return TpmRc.Success;
            }
            default: // HMAC
            {
                output.Signature.Signature.Hmac.HashAlg = hash;
                Span<byte> mac = stackalloc byte[TpmHash.MaxDigestSize];
                TpmHash.Hmac(hash, key.Sensitive.Sensitive.Bits.Span, digest, mac);
                mac[..TpmHash.DigestSize(hash)].CopyTo(HmacDestination(ref output.Signature.Signature.Hmac, hash));
                return TpmRc.Success;
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

    /// <summary>Part 2 §10.7.5: a TPM_ST_HASHCHECK ticket of a hierarchy other than NULL whose HMAC is the TPM's over this digest.</summary>
    static bool TicketVouchesFor(Tpm2Engine tpm, in TpmtTkHashcheck ticket, ReadOnlySpan<byte> digest)
    {
        if (ticket.Tag != TpmSt.Hashcheck || ticket.Hierarchy == (uint)TpmRh.Null) return false;
        Span<byte> expected = stackalloc byte[TpmHash.MaxDigestSize];
        int n = Tickets.HashCheck(tpm.Hmacs, tpm.Hierarchy.GetProof(ticket.Hierarchy), digest, expected);
        return CryptographicOperations.FixedTimeEquals(expected[..n], ticket.Digest.Span);
    }
}
