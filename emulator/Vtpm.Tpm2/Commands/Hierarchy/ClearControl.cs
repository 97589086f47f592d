using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.7 TPM2_ClearControl: sets or clears disableClear. lockoutAuth may only SET it;
/// clearing it needs platformAuth. Response codes: TPM_RC_VALUE (disable not YES/NO, parameter 1),
/// TPM_RC_AUTH_FAIL (lockoutAuth used to CLEAR disableClear).
/// </summary>
public static class ClearControl
{
    public readonly record struct In(uint Auth, bool Disable);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadYesNo(out bool disable);
        input = new In(f.Handles[0], disable);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (input.Auth == (uint)TpmRh.Lockout && !input.Disable) return TpmRc.AuthFail;
        tpm.Hierarchy.SetDisableClear(input.Disable);
        return TpmRc.Success;
    }
}
