using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.4 TPM2_ChangePPS: replaces the Platform Primary Seed with a new random value,
/// makes a new phProof, empties platformPolicy and flushes platform-hierarchy objects.
/// Response codes: none of its own.
/// </summary>
public static class ChangePps
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ChangePPSIn input, ref ChangePPSOut output)
    {
        tpm.Hierarchy.ChangePps();
        return TpmRc.Success;
    }
}
