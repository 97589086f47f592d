using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.2 TPM2_HierarchyControl: enables or disables a hierarchy (shEnable, ehEnable,
/// phEnable, phEnableNV). Only platformAuth may touch phEnable/phEnableNV; ownerAuth may change
/// shEnable and endorsementAuth ehEnable — which in practice means clearing it, since a disabled
/// hierarchy's handle is refused (TPM_RC_HIERARCHY) before this runs; setting it again is a no-op
/// success, as swtpm answers. Response codes: TPM_RC_AUTH_TYPE (authHandle may not change that enable
/// in that direction); TPM_RC_VALUE for enable (TPMI_RH_ENABLES, parameter 1) and state (TPMI_YES_NO,
/// parameter 2) is the generated unmarshal's.
/// </summary>
public static class HierarchyControl
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in HierarchyControlIn input, ref HierarchyControlOut output)
    {
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
        tpm.Hierarchy.SetEnable(input.Enable, input.State != 0);
        return TpmRc.Success;
    }
}
