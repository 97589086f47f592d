using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.DictionaryAttack;

/// <summary>
/// TPM 2.0 Part 3 §25.3 TPM2_DictionaryAttackParameters: sets maxTries, recoveryTime (seconds per
/// healed failure; 0 disables DA protection) and lockoutRecovery (seconds lockoutAuth is blocked after
/// a failure; 0: until the next Startup), and restarts failedTries at 0. Response codes: none of its own.
/// </summary>
public static class DictionaryAttackParameters
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in DictionaryAttackParametersIn input, ref DictionaryAttackParametersOut output)
    {
        tpm.DictionaryAttack.SetParameters(input.NewMaxTries, input.NewRecoveryTime, input.LockoutRecovery);
        return TpmRc.Success;
    }
}
