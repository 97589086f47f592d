using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.3 TPM2_SetPrimaryPolicy: sets the authPolicy (and its hash algorithm) of the
/// owner, endorsement, platform or lockout hierarchy. Response codes: TPM_RC_SIZE (authPolicy is not
/// the size of a hashAlg digest, parameter 1), TPM_RC_HASH (hashAlg neither an implemented hash nor
/// TPM_ALG_NULL, parameter 2).
/// </summary>
public static class SetPrimaryPolicy
{
    public readonly record struct In(uint AuthHandle, byte[] AuthPolicy, TpmAlgId HashAlg);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var policy, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        var policyBytes = policy.ToArray();
        rc = f.ReadUInt16(out ushort alg);
        if (rc.IsError) return rc;
        if (alg != (ushort)TpmAlgId.Null && !TpmHash.IsImplemented((TpmAlgId)alg)) return TpmRc.Hash.ForParameter(2);
        input = new In(f.Handles[0], policyBytes, (TpmAlgId)alg);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (input.AuthPolicy.Length != TpmHash.DigestSize(input.HashAlg)) return TpmRc.Size.ForParameter(1);
        tpm.Hierarchy.SetPolicy(input.AuthHandle, input.AuthPolicy, input.HashAlg);
        return TpmRc.Success;
    }
}
