using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Symmetric;

/// <summary>
/// TPM 2.0 Part 3 §15.2 TPM2_EncryptDecrypt and §15.3 TPM2_EncryptDecrypt2 (inData first, so a session can encrypt it).
/// Response codes: TPM_RC_KEY (not a symmetric key, handle 1), TPM_RC_ATTRIBUTES (restricted, or not allowed to
/// encrypt / decrypt, handle 1), TPM_RC_MODE (a mode other than the key's, or none), TPM_RC_SIZE (an IV that is not one
/// block; ECB or CBC data that is not whole blocks).
/// </summary>
public static class EncryptDecrypt
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in EncryptDecryptIn input, ref EncryptDecryptOut output) =>
        SymmetricCipher.Run(tpm, input.KeyHandle, input.Decrypt != 0, input.Mode, input.IvIn, input.InData, new(1, 2, 3, 4),
            ref output.OutData, ref output.IvOut);

    public static TpmRc Execute2(Tpm2Engine tpm, ref CommandFrame f, in EncryptDecrypt2In input, ref EncryptDecrypt2Out output) =>
        SymmetricCipher.Run(tpm, input.KeyHandle, input.Decrypt != 0, input.Mode, input.IvIn, input.InData, new(2, 3, 4, 1),
            ref output.OutData, ref output.IvOut);
}
