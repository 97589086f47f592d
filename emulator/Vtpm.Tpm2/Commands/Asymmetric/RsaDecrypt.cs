using Org.BouncyCastle.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Asymmetric;

/// <summary>
/// TPM 2.0 Part 3 §14.3 TPM2_RSA_Decrypt: decrypts with a loaded RSA decryption key that is not restricted (a
/// restricted one only unwraps what the TPM itself made for it). Response codes: TPM_RC_KEY (not an RSA key, handle 1),
/// TPM_RC_ATTRIBUTES (decrypt CLEAR or restricted, handle 1), TPM_RC_SCHEME (parameter 2), TPM_RC_VALUE (a label without
/// its terminating zero, parameter 3; a ciphertext that does not decrypt, parameter 1), TPM_RC_SIZE (a ciphertext that
/// is not the size of the key, parameter 1).
/// </summary>
public static class RsaDecrypt
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in RsaDecryptIn input, ref RsaDecryptOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || key.Public.Type != TpmAlgId.Rsa) return TpmRc.Key.ForHandle(1);
        if (!key.Has(TpmaObject.Decrypt) || key.Has(TpmaObject.Restricted) || key.IsPublicOnly) return TpmRc.Attributes.ForHandle(1);
        var rc = RsaPadding.Resolve(key, input.InScheme, out var scheme, out var hash);
        if (rc.IsError) return rc.ForParameter(2);
        if (!RsaPadding.LabelIsTerminated(input.Label.Span)) return TpmRc.Value.ForParameter(3);
        var cipherText = input.CipherText.ToArray();
        if (cipherText.Length != key.Public.Parameters.RsaDetail.KeyBits / 8) return TpmRc.Size.ForParameter(1);
        var cipher = RsaPadding.Cipher(scheme, hash, input.Label.Span);
        cipher.Init(false, Crypto.KeyMaterial.RsaPrivate(key));
        try
        {
            output.Message = Tpm2bPublicKeyRsa.From(cipher.ProcessBlock(cipherText, 0, cipherText.Length));
            return TpmRc.Success;
        }
        catch (InvalidCipherTextException)
        {
            return TpmRc.Value.ForParameter(1);
        }
        catch (DataLengthException)
        {
            return TpmRc.Value.ForParameter(1);
        }
    }
}
