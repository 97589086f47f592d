using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Asymmetric;

/// <summary>
/// TPM 2.0 Part 3 §14.2 TPM2_RSA_Encrypt: encrypts with the public part of a loaded RSA decryption key (no authorization
/// needed). Response codes: TPM_RC_KEY (not an RSA key, handle 1), TPM_RC_ATTRIBUTES (decrypt CLEAR, handle 1),
/// TPM_RC_SCHEME (parameter 2), TPM_RC_VALUE (a label without its terminating zero, parameter 3; a message too long
/// for the key and scheme, or as a number not below the modulus, parameter 1).
/// </summary>
public static class RsaEncrypt
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in RsaEncryptIn input, ref RsaEncryptOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || key.Public.Type != TpmAlgId.Rsa) return TpmRc.Key.ForHandle(1);
        if (!key.Has(TpmaObject.Decrypt)) return TpmRc.Attributes.ForHandle(1);
        var rc = RsaPadding.Resolve(key, input.InScheme, out var scheme, out var hash);
        if (rc.IsError) return rc.ForParameter(2);
        if (!RsaPadding.LabelIsTerminated(input.Label.Span)) return TpmRc.Value.ForParameter(3);
        var cipher = RsaPadding.Cipher(scheme, hash, input.Label.Span);
        cipher.Init(true, new Org.BouncyCastle.Crypto.Parameters.ParametersWithRandom(Crypto.KeyMaterial.RsaPublic(key), new RandomSource(tpm)));
        var message = input.Message.ToArray();
        int keyBytes = key.Public.Parameters.RsaDetail.KeyBits / 8;
        if (scheme == TpmAlgId.Null)
        {
            // The raw RSA function: the message is a number below the modulus, padded on the left to the key size.
            if (message.Length > keyBytes) return TpmRc.Value.ForParameter(1);
            var m = new Org.BouncyCastle.Math.BigInteger(1, message);
            if (m.CompareTo(Crypto.KeyMaterial.RsaPublic(key).Modulus) >= 0) return TpmRc.Value.ForParameter(1);
        }
        else if (message.Length > cipher.GetInputBlockSize())
        {
            return TpmRc.Value.ForParameter(1);
        }
        var encrypted = cipher.ProcessBlock(message, 0, message.Length);
        output.OutData = Tpm2bPublicKeyRsa.From(encrypted.Length == keyBytes ? encrypted : [.. new byte[keyBytes - encrypted.Length], .. encrypted]);
        return TpmRc.Success;
    }
}
