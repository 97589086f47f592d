using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.2 TPM2_HierarchyControl: enables or disables a hierarchy (shEnable, ehEnable,
/// phEnable, phEnableNV). Only platformAuth may touch phEnable/phEnableNV; ownerAuth may change
/// shEnable and endorsementAuth ehEnable — which in practice means clearing it, since a disabled
/// hierarchy's handle is refused (TPM_RC_HIERARCHY) before this runs; setting it again is a no-op
/// success, as swtpm answers. Response codes: TPM_RC_VALUE (enable not a
/// TPMI_RH_ENABLES, parameter 1; state not YES/NO, parameter 2), TPM_RC_AUTH_TYPE (authHandle may
/// not change that enable in that direction).
/// </summary>
public static class HierarchyControl
{
    public readonly record struct In(uint AuthHandle, uint Enable, bool State);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt32(out uint enable);
        if (rc.IsError) return rc;
        if (enable is not ((uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.PlatformNv))
            return TpmRc.Value.ForParameter(1);
        rc = f.ReadYesNo(out bool state);
        if (rc.IsError) return rc;
        input = new In(f.Handles[0], enable, state);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        bool platform = input.AuthHandle == (uint)TpmRh.Platform;
        switch (input.Enable)
        {
            case (uint)TpmRh.Platform:
            case (uint)TpmRh.PlatformNv:
                if (!platform) return TpmRc.AuthType;
                break;
            case (uint)TpmRh.Owner:
                if (!platform && input.AuthHandle != (uint)TpmRh.Owner) return TpmRc.AuthType;
                break;
            case (uint)TpmRh.Endorsement:
                if (!platform && input.AuthHandle != (uint)TpmRh.Endorsement) return TpmRc.AuthType;
                break;
        }
        tpm.Hierarchy.SetEnable(input.Enable, input.State);
        return TpmRc.Success;
    }
}
