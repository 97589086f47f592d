using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.7 TPM2_ClearControl: sets or clears disableClear. lockoutAuth may only SET it;
/// clearing it needs platformAuth. Response codes: TPM_RC_AUTH_FAIL (lockoutAuth used to CLEAR
/// disableClear); TPM_RC_VALUE (disable not YES/NO: TPMI_YES_NO, parameter 1) is the generated unmarshal's.
/// </summary>
public static class ClearControl
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ClearControlIn input, ref ClearControlOut output)
    {
        bool disable = input.Disable != 0;
        if (input.Auth == (uint)TpmRh.Lockout && !disable) return TpmRc.AuthFail;
        tpm.Hierarchy.SetDisableClear(disable);
        return TpmRc.Success;
    }
}
