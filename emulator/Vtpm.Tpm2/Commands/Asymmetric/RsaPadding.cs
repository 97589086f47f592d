using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Asymmetric;

/// <summary>
/// RSA encryption as TPM2_RSA_Encrypt and TPM2_RSA_Decrypt use it (Part 1 §B.4, Part 3 §14.2): OAEP with the label
/// (its terminating zero included) and MGF1 of the scheme's hash, RSAES-PKCS1-v1_5, or the raw RSA function (scheme
/// NULL). BouncyCastle does the padding: .NET has no OAEP label and no raw RSA.
/// </summary>
public static class RsaPadding
{
    /// <summary>The scheme to use: the key's, or for a key with none the command's; TPM_RC_SCHEME when they disagree.</summary>
    public static TpmRc Resolve(KeyObject key, in TpmtRsaDecrypt requested, out TpmAlgId scheme, out TpmAlgId hash)
    {
        ref readonly var own = ref key.Public.Parameters.RsaDetail.Scheme;
        var keyScheme = own.Scheme is TpmAlgId.Oaep or TpmAlgId.Rsaes ? own.Scheme : TpmAlgId.Null;
        var keyHash = keyScheme == TpmAlgId.Oaep ? own.Details.Oaep.HashAlg : TpmAlgId.Null;
        var askedHash = requested.Scheme == TpmAlgId.Oaep ? requested.Details.Oaep.HashAlg : TpmAlgId.Null;
        if (own.Scheme != TpmAlgId.Null && keyScheme == TpmAlgId.Null)
        {
            // A key with a signing scheme does not encrypt.
            (scheme, hash) = (TpmAlgId.Null, TpmAlgId.Null);
            return TpmRc.Scheme;
        }
        if (keyScheme == TpmAlgId.Null) (scheme, hash) = (requested.Scheme, askedHash);
        else
        {
            (scheme, hash) = (keyScheme, keyHash);
            if (requested.Scheme != TpmAlgId.Null && (requested.Scheme != keyScheme || askedHash != keyHash)) return TpmRc.Scheme;
        }
        return TpmRc.Success;
    }

    public static IAsymmetricBlockCipher Cipher(TpmAlgId scheme, TpmAlgId hash, ReadOnlySpan<byte> label) => scheme switch
    {
        TpmAlgId.Oaep => new OaepEncoding(new RsaEngine(), Digest(hash), Digest(hash), label.ToArray()),
        TpmAlgId.Rsaes => new Pkcs1Encoding(new RsaEngine()),
        _ => new RsaEngine(),
    };

    static IDigest Digest(TpmAlgId hash) => hash switch
    {
        TpmAlgId.Sha1 => new Sha1Digest(),
        TpmAlgId.Sha256 => new Sha256Digest(),
        TpmAlgId.Sha384 => new Sha384Digest(),
        _ => new Sha512Digest(),
    };

    /// <summary>Part 1 §B.4: a label that is not empty ends in a zero octet, which is part of it.</summary>
    public static bool LabelIsTerminated(ReadOnlySpan<byte> label) => label.IsEmpty || label[^1] == 0;
}
