using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.7 TPM2_PCR_SetAuthValue: sets the authValue of the authorization group pcrHandle
/// belongs to (PCRs 20–22; reset at TPM Reset and Restart). Response codes: TPM_RC_VALUE (the PCR is in no
/// authorization group; without a handle number, as the reference answers); TPM_RC_SIZE (auth larger than
/// a digest, parameter 1) is the generated TPM2B_DIGEST unmarshal's.
/// </summary>
public static class PcrSetAuthValue
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrSetAuthValueIn input, ref PcrSetAuthValueOut output)
    {
        if (!PcrSubsystem.InAuthGroup((int)input.PcrHandle)) return TpmRc.Value;
        tpm.Pcr.SetAuthValue(input.Auth.Span);
        return TpmRc.Success;
    }
}
