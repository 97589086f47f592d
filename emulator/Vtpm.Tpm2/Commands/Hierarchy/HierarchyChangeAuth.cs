using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.8 TPM2_HierarchyChangeAuth: sets ownerAuth, endorsementAuth, lockoutAuth or
/// platformAuth. Trailing zeros are not significant and are removed (Part 1 §19.6.4.3).
/// Response codes: TPM_RC_SIZE (newAuth longer than the largest digest, parameter 1).
/// </summary>
public static class HierarchyChangeAuth
{
    public readonly record struct In(uint AuthHandle, byte[] NewAuth);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var newAuth, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        input = new In(f.Handles[0], Authorization.TrimTrailingZeros(newAuth).ToArray());
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        tpm.Hierarchy.SetAuth(input.AuthHandle, input.NewAuth);
        return TpmRc.Success;
    }
}
