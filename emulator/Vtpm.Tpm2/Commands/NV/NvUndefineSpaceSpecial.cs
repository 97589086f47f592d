using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.5 TPM2_NV_UndefineSpaceSpecial: deletes an index with TPMA_NV_POLICY_DELETE,
/// authorized by the index's policy (ADMIN role: a policy session only, Part 1 §19.7) and platformAuth.
/// Response codes: TPM_RC_AUTH_TYPE (the index was not authorized by a policy session: the dispatcher's role check),
/// TPM_RC_ATTRIBUTES (POLICY_DELETE is CLEAR, handle 1).
/// </summary>
public static class NvUndefineSpaceSpecial
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvUndefineSpaceSpecialIn input, ref NvUndefineSpaceSpecialOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(1);
        if (!index.Has(TpmaNv.PolicyDelete)) return TpmRc.Attributes.ForHandle(1);
        tpm.Nv.Undefine(input.NvIndex);
        return TpmRc.Success;
    }
}
