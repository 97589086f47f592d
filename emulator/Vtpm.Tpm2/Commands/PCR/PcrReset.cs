using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.8 TPM2_PCR_Reset: sets the PCR to zero in every bank. Which PCRs may be reset at
/// which locality is the PC Client profile's (16 and 23 at localities 0–3, 17–19 at 4, 20–22 at 2 and 4).
/// Response codes: TPM_RC_LOCALITY (not resettable, or not at this locality).
/// </summary>
public static class PcrReset
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrResetIn input, ref PcrResetOut output)
    {
        if (!PcrSubsystem.IsResetAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        tpm.Pcr.ResetPcr((int)input.PcrHandle);
        return TpmRc.Success;
    }
}
