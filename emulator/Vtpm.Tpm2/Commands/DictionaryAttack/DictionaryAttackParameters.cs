using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.DictionaryAttack;

/// <summary>
/// TPM 2.0 Part 3 §25.3 TPM2_DictionaryAttackParameters: sets maxTries, recoveryTime (seconds per
/// healed failure; 0 disables DA protection) and lockoutRecovery (seconds lockoutAuth is blocked after
/// a failure; 0: until the next Startup), and restarts failedTries at 0. Response codes: none of its own.
/// </summary>
public static class DictionaryAttackParameters
{
    public readonly record struct In(uint NewMaxTries, uint NewRecoveryTime, uint LockoutRecovery);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt32(out uint maxTries);
        if (rc.IsError) return rc;
        rc = f.ReadUInt32(out uint recovery);
        if (rc.IsError) return rc;
        rc = f.ReadUInt32(out uint lockoutRecovery);
        if (rc.IsError) return rc;
        input = new In(maxTries, recovery, lockoutRecovery);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        tpm.DictionaryAttack.SetParameters(input.NewMaxTries, input.NewRecoveryTime, input.LockoutRecovery);
        return TpmRc.Success;
    }
}
