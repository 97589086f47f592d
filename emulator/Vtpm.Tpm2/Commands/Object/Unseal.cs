using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §12.7 TPM2_Unseal: the data of a loaded sealed data object (KEYEDHASH with sign and decrypt CLEAR).
/// Response codes: TPM_RC_TYPE (not a KEYEDHASH object, handle 1), TPM_RC_ATTRIBUTES (sign or decrypt SET, handle 1).
/// </summary>
public static class Unseal
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in UnsealIn input, ref UnsealOut output)
    {
        if (tpm.Objects.GetKey(input.ItemHandle) is not { } item || item.Public.Type != TpmAlgId.Keyedhash) return TpmRc.Type.ForHandle(1);
        if (item.Has(TpmaObject.Sign) || item.Has(TpmaObject.Decrypt)) return TpmRc.Attributes.ForHandle(1);
        output.OutData = item.Sensitive.Sensitive.Bits;
        return TpmRc.Success;
    }
}
