using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// The TPMI_ handle interface types of Part 2 that appear in command handle areas. The dispatcher checks
/// a handle against its kind before anything else (Part 2 §9: a value outside the interface type is
/// TPM_RC_VALUE, a handle of the wrong type TPM_RC_HANDLE... we follow the reference's choice per type).
/// </summary>
public enum HandleKind : byte
{
    /// <summary>TPMI_RH_HIERARCHY_AUTH: owner, endorsement, platform, lockout.</summary>
    HierarchyAuth,
    /// <summary>TPMI_RH_HIERARCHY: owner, endorsement, platform (+null where allowed).</summary>
    Hierarchy,
    /// <summary>TPMI_RH_ENABLES: owner, endorsement, platform, platformNV.</summary>
    Enables,
    /// <summary>TPMI_RH_HIERARCHY_POLICY: owner, endorsement, platform, lockout.</summary>
    HierarchyPolicy,
    /// <summary>TPMI_RH_PLATFORM.</summary>
    Platform,
    /// <summary>TPMI_RH_OWNER.</summary>
    Owner,
    /// <summary>TPMI_RH_ENDORSEMENT.</summary>
    Endorsement,
    /// <summary>TPMI_RH_PROVISION: owner, platform.</summary>
    Provision,
    /// <summary>TPMI_RH_CLEAR: lockout, platform.</summary>
    Clear,
    /// <summary>TPMI_RH_LOCKOUT.</summary>
    Lockout,
    /// <summary>TPMI_RH_NV_AUTH: owner, platform, or an NV index.</summary>
    NvAuth,
    /// <summary>TPMI_RH_NV_INDEX.</summary>
    NvIndex,
    /// <summary>TPMI_DH_PCR: a PCR number.</summary>
    Pcr,
    /// <summary>TPMI_DH_OBJECT: transient or persistent object.</summary>
    Object,
    /// <summary>TPMI_DH_ENTITY: anything that has an authValue.</summary>
    Entity,
    /// <summary>TPMI_DH_CONTEXT: session or transient/persistent object (FlushContext, ContextSave).</summary>
    Context,
    /// <summary>TPMI_SH_POLICY: a policy session.</summary>
    PolicySession,
}

public static class HandleKinds
{
    /// <summary>
    /// The engine's check for a catalog handle type. Only the types of implemented commands' handle areas have
    /// one; registering a command with another fails when the command table is built, not at run time.
    /// </summary>
    public static HandleKind For(HandleType type) => type switch
    {
        HandleType.TpmiRhHierarchyAuth => HandleKind.HierarchyAuth,
        HandleType.TpmiRhHierarchy => HandleKind.Hierarchy,
        HandleType.TpmiRhHierarchyPolicy => HandleKind.HierarchyPolicy,
        HandleType.TpmiRhPlatform => HandleKind.Platform,
        HandleType.TpmiRhEndorsement => HandleKind.Endorsement,
        HandleType.TpmiRhProvision => HandleKind.Provision,
        HandleType.TpmiRhClear => HandleKind.Clear,
        HandleType.TpmiRhLockout => HandleKind.Lockout,
        HandleType.TpmiRhNvAuth => HandleKind.NvAuth,
        HandleType.TpmiRhNvIndex => HandleKind.NvIndex,
        HandleType.TpmiDhPcr => HandleKind.Pcr,
        HandleType.TpmiDhObject => HandleKind.Object,
        HandleType.TpmiDhEntity => HandleKind.Entity,
        HandleType.TpmiDhContext => HandleKind.Context,
        HandleType.TpmiShPolicy => HandleKind.PolicySession,
        _ => throw new InvalidOperationException($"the engine has no handle check for {type} yet"),
    };

    public static TpmHt TypeOf(uint handle) => (TpmHt)(handle >> 24);

    /// <summary>
    /// Checks the handle's value against its interface type; does not check existence.
    /// Returns TPM_RC_VALUE for a value outside the type (the reference's TPMI unmarshal result).
    /// </summary>
    public static TpmRc Check(HandleKind kind, uint handle, bool allowNull)
    {
        if (allowNull && handle == (uint)TpmRh.Null) return TpmRc.Success;
        bool ok = kind switch
        {
            HandleKind.HierarchyAuth => handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Lockout,
            HandleKind.Hierarchy => handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform,
            HandleKind.Enables => handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.PlatformNv,
            HandleKind.HierarchyPolicy => handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Lockout,
            HandleKind.Platform => handle == (uint)TpmRh.Platform,
            HandleKind.Owner => handle == (uint)TpmRh.Owner,
            HandleKind.Endorsement => handle == (uint)TpmRh.Endorsement,
            HandleKind.Provision => handle is (uint)TpmRh.Owner or (uint)TpmRh.Platform,
            HandleKind.Clear => handle is (uint)TpmRh.Lockout or (uint)TpmRh.Platform,
            HandleKind.Lockout => handle == (uint)TpmRh.Lockout,
            HandleKind.NvAuth => handle is (uint)TpmRh.Owner or (uint)TpmRh.Platform || TypeOf(handle) == TpmHt.NvIndex,
            HandleKind.NvIndex => TypeOf(handle) == TpmHt.NvIndex,
            HandleKind.Pcr => handle < Pcrs.PcrCount,
            HandleKind.Object => TypeOf(handle) is TpmHt.Transient or TpmHt.Persistent,
            HandleKind.Entity => TypeOf(handle) is TpmHt.Transient or TpmHt.Persistent or TpmHt.NvIndex
                || handle < Pcrs.PcrCount
                || handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Lockout,
            HandleKind.Context => TypeOf(handle) is TpmHt.Transient or TpmHt.Persistent or TpmHt.HmacSession or TpmHt.PolicySession,
            HandleKind.PolicySession => TypeOf(handle) == TpmHt.PolicySession,
            _ => false,
        };
        return ok ? TpmRc.Success : TpmRc.Value;
    }
}

/// <summary>Implementation constants for PCRs shared by the dispatcher and the PCR subsystem.</summary>
public static class Pcrs
{
    /// <summary>IMPLEMENTATION_PCR: 24, as the PC Client platform specification requires.</summary>
    public const int PcrCount = 24;
}
