using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Signing;

/// <summary>
/// The scheme a signature is made with (Part 3 §20.2.1): the key's own scheme, or — for a key whose scheme is NULL —
/// the one the command names; naming another scheme than the key's is TPM_RC_SCHEME. This TPM signs with RSASSA and
/// RSAPSS (RSA keys), ECDSA (ECC keys) and HMAC (KEYEDHASH keys).
/// </summary>
public static class SigningScheme
{
    /// <summary>The scheme and hash to sign with; TPM_RC_SCHEME (no parameter number) when there is none or they disagree.</summary>
    public static TpmRc Resolve(KeyObject key, in TpmtSigScheme requested, out TpmAlgId scheme, out TpmAlgId hash)
    {
        var (keyScheme, keyHash) = KeyScheme(key);
        var (asked, askedHash) = (requested.Scheme, HashOf(requested));
        if (keyScheme == TpmAlgId.Null)
        {
            (scheme, hash) = (asked, askedHash);
            if (scheme == TpmAlgId.Null) return TpmRc.Scheme;
        }
        else
        {
            (scheme, hash) = (keyScheme, keyHash);
            if (asked != TpmAlgId.Null && (asked != keyScheme || askedHash != keyHash)) return TpmRc.Scheme;
        }
        bool fits = key.Public.Type switch
        {
            TpmAlgId.Rsa => scheme is TpmAlgId.Rsassa or TpmAlgId.Rsapss,
            TpmAlgId.Ecc => scheme is TpmAlgId.Ecdsa,
            TpmAlgId.Keyedhash => scheme is TpmAlgId.Hmac,
            _ => false,
        };
        return fits && TpmHash.IsImplemented(hash) ? TpmRc.Success : TpmRc.Scheme;
    }

    static (TpmAlgId Scheme, TpmAlgId Hash) KeyScheme(KeyObject key)
    {
        ref readonly var p = ref key.Public.Parameters;
        return key.Public.Type switch
        {
            TpmAlgId.Rsa => (p.RsaDetail.Scheme.Scheme, p.RsaDetail.Scheme.Scheme switch
            {
                TpmAlgId.Rsassa => p.RsaDetail.Scheme.Details.Rsassa.HashAlg,
                TpmAlgId.Rsapss => p.RsaDetail.Scheme.Details.Rsapss.HashAlg,
                _ => TpmAlgId.Null,
            }),
            TpmAlgId.Ecc => (p.EccDetail.Scheme.Scheme, p.EccDetail.Scheme.Scheme == TpmAlgId.Ecdsa ? p.EccDetail.Scheme.Details.Ecdsa.HashAlg : TpmAlgId.Null),
            TpmAlgId.Keyedhash => (p.KeyedHashDetail.Scheme.Scheme,
                p.KeyedHashDetail.Scheme.Scheme == TpmAlgId.Hmac ? p.KeyedHashDetail.Scheme.Details.Hmac.HashAlg : TpmAlgId.Null),
            _ => (TpmAlgId.Null, TpmAlgId.Null),
        };
    }

    static TpmAlgId HashOf(in TpmtSigScheme s) => s.Scheme switch
    {
        TpmAlgId.Rsassa => s.Details.Rsassa.HashAlg,
        TpmAlgId.Rsapss => s.Details.Rsapss.HashAlg,
        TpmAlgId.Ecdsa => s.Details.Ecdsa.HashAlg,
        TpmAlgId.Ecdaa => s.Details.Ecdaa.HashAlg,
        TpmAlgId.Ecschnorr => s.Details.Ecschnorr.HashAlg,
        TpmAlgId.Hmac => s.Details.Hmac.HashAlg,
        _ => TpmAlgId.Null,
    };
}
