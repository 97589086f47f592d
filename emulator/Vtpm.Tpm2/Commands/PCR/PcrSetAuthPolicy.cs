using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.6 TPM2_PCR_SetAuthPolicy (platform authorization): sets the policy of the policy
/// group pcrNum belongs to (PCRs 20–22 form the one group, as in the reference). Response codes:
/// TPM_RC_SIZE (authPolicy not the size of hashAlg's digest), TPM_RC_HASH (hashAlg), TPM_RC_VALUE
/// (pcrNum not a PCR, or not in a policy group).
/// </summary>
public static class PcrSetAuthPolicy
{
    public readonly ref struct In(ReadOnlySpan<byte> authPolicy, TpmAlgId hashAlg, uint pcrNum)
    {
        public ReadOnlySpan<byte> AuthPolicy { get; } = authPolicy;
        public TpmAlgId HashAlg { get; } = hashAlg;
        public uint PcrNum { get; } = pcrNum;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var policy, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort alg);
        if (rc.IsError) return rc;
        if (alg != (ushort)TpmAlgId.Null && !TpmHash.IsImplemented((TpmAlgId)alg)) return TpmRc.Hash.ForParameter(2);
        rc = f.ReadUInt32(out uint pcr);
        if (rc.IsError) return rc;
        if (pcr >= PcrSubsystem.PcrCount) return TpmRc.Value.ForParameter(3);
        input = new In(policy, (TpmAlgId)alg, pcr);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        int expected = input.HashAlg == TpmAlgId.Null ? 0 : TpmHash.DigestSize(input.HashAlg);
        if (input.AuthPolicy.Length != expected) return TpmRc.Size.ForParameter(1);
        if (!PcrSubsystem.InPolicyGroup((int)input.PcrNum)) return TpmRc.Value.ForParameter(3);
        tpm.Pcr.SetAuthPolicy(input.HashAlg, input.AuthPolicy);
        return TpmRc.Success;
    }
}
