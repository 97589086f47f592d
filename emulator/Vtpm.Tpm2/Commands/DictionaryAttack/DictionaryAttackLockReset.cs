using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.DictionaryAttack;

/// <summary>
/// TPM 2.0 Part 3 §25.2 TPM2_DictionaryAttackLockReset: with lockoutAuth, sets failedTries to zero
/// (ending a lockout). Response codes: none of its own (a lockoutAuth failure is the dispatcher's
/// TPM_RC_AUTH_FAIL, a blocked lockoutAuth TPM_RC_LOCKOUT).
/// </summary>
public static class DictionaryAttackLockReset
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in DictionaryAttackLockResetIn input, ref DictionaryAttackLockResetOut output)
    {
        tpm.DictionaryAttack.LockReset();
        return TpmRc.Success;
    }
}
