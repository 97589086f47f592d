using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.5 TPM2_ChangeEPS: replaces the Endorsement Primary Seed with a new random
/// value, makes a new ehProof, empties endorsementAuth and endorsementPolicy and flushes
/// endorsement-hierarchy objects. Response codes: none of its own.
/// </summary>
public static class ChangeEps
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ChangeEPSIn input, ref ChangeEPSOut output)
    {
        tpm.Hierarchy.ChangeEps();
        return TpmRc.Success;
    }
}
