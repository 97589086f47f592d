using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.6 TPM2_PCR_SetAuthPolicy (platform authorization): sets the policy of the policy
/// group pcrNum belongs to (PCRs 20–22 form the one group, as in the reference). Response codes:
/// TPM_RC_SIZE (authPolicy not the size of hashAlg's digest, parameter 1), TPM_RC_VALUE (pcrNum in no
/// policy group, parameter 3). The generated unmarshal answers TPM_RC_SIZE for an authPolicy larger than
/// a digest (parameter 1), TPM_RC_HASH for hashAlg (TPMI_ALG_HASH+, parameter 2) and TPM_RC_VALUE for a
/// pcrNum that is no PCR (TPMI_DH_PCR, parameter 3).
/// </summary>
public static class PcrSetAuthPolicy
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrSetAuthPolicyIn input, ref PcrSetAuthPolicyOut output)
    {
        // Part 3 §22.6.1: authPolicy is a digest of hashAlg (empty with TPM_ALG_NULL).
        if (input.AuthPolicy.Size != TpmHash.DigestSize(input.HashAlg)) return TpmRc.Size.ForParameter(1);
        if (!PcrSubsystem.InPolicyGroup((int)input.PcrNum)) return TpmRc.Value.ForParameter(3);
        tpm.Pcr.SetAuthPolicy(input.HashAlg, input.AuthPolicy.Span);
        return TpmRc.Success;
    }
}
