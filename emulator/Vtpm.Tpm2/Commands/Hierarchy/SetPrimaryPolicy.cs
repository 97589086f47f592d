using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.3 TPM2_SetPrimaryPolicy: sets the authPolicy (and its hash algorithm) of the
/// owner, endorsement, platform or lockout hierarchy. Response codes: TPM_RC_SIZE (authPolicy is not
/// the size of a hashAlg digest, parameter 1); TPM_RC_SIZE for an authPolicy larger than any digest
/// (parameter 1) and TPM_RC_HASH (hashAlg neither an implemented hash nor TPM_ALG_NULL: TPMI_ALG_HASH+,
/// parameter 2) are the generated unmarshal's.
/// </summary>
public static class SetPrimaryPolicy
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SetPrimaryPolicyIn input, ref SetPrimaryPolicyOut output)
    {
        // Part 3 §24.3.1: authPolicy is a digest of hashAlg (empty with TPM_ALG_NULL).
        if (input.AuthPolicy.Size != TpmHash.DigestSize(input.HashAlg)) return TpmRc.Size.ForParameter(1);
        tpm.Hierarchy.SetPolicy(input.AuthHandle, input.AuthPolicy.ToArray(), input.HashAlg);
        return TpmRc.Success;
    }
}
