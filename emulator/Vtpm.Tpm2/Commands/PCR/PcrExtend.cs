using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.2 TPM2_PCR_Extend: extends each digest of the list into the bank of its
/// algorithm; banks not allocated are skipped, TPM_RH_NULL extends nothing. Response codes:
/// TPM_RC_LOCALITY (the PCR may not be extended at this locality); TPM_RC_HASH / TPM_RC_SIZE for
/// parameter 1 (an unimplemented or NULL hashAlg, more than HASH_COUNT entries) are the generated
/// TPML_DIGEST_VALUES unmarshal's.
/// </summary>
public static class PcrExtend
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrExtendIn input, ref PcrExtendOut output)
    {
        if (input.PcrHandle >= PcrSubsystem.PcrCount) return TpmRc.Success;
        if (!PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, in input.Digests);
        return TpmRc.Success;
    }
}
