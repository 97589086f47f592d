using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.8 TPM2_HierarchyChangeAuth: sets ownerAuth, endorsementAuth, lockoutAuth or
/// platformAuth. Trailing zeros are not significant and are removed (Part 1 §19.6.4.3).
/// Response codes: TPM_RC_SIZE (newAuth longer than the largest digest, parameter 1: the generated
/// TPM2B_AUTH unmarshal's).
/// </summary>
public static class HierarchyChangeAuth
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in HierarchyChangeAuthIn input, ref HierarchyChangeAuthOut output)
    {
        tpm.Hierarchy.SetAuth(input.AuthHandle, Authorization.TrimTrailingZeros(input.NewAuth.Span).ToArray());
        return TpmRc.Success;
    }
}
