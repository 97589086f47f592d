using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.4 TPM2_NV_UndefineSpace: deletes an index with owner or platform authorization.
/// Response codes: TPM_RC_ATTRIBUTES (TPMA_NV_POLICY_DELETE is SET: use NV_UndefineSpaceSpecial,
/// handle 2), TPM_RC_NV_AUTHORIZATION (the owner may not delete a platform-created index).
/// </summary>
public static class NvUndefineSpace
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvUndefineSpaceIn input, ref NvUndefineSpaceOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        if (index.Has(TpmaNv.PolicyDelete)) return TpmRc.Attributes.ForHandle(2);
        if (input.AuthHandle == (uint)TpmRh.Owner && index.Has(TpmaNv.PlatformCreate)) return TpmRc.NvAuthorization;
        tpm.Nv.Undefine(input.NvIndex);
        return TpmRc.Success;
    }
}
