using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>Hierarchies, their auths, policies and enables (Part 1 §13). Placeholder: empty auths, all enabled.</summary>
public sealed class HierarchySubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "HIER";

    /// <summary>TPM_RC_HIERARCHY if a permanent handle's hierarchy is disabled (base code; the caller adds the index).</summary>
    public TpmRc CheckEnabled(uint handle) => TpmRc.Success;

    /// <summary>
    /// The proof value of a hierarchy (Part 1 §14.6: phProof, shProof, ehProof; TPM_RH_NULL has the
    /// per-reset nullProof). Tickets and saved contexts are HMACed with it.
    /// </summary>
    public byte[] GetProof(uint hierarchy) => new byte[32];

    public override bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        if (handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Lockout)
        {
            entity = new AuthEntity([], [], TpmAlgId.Null, handle != (uint)TpmRh.Lockout && false, Tpm.GetNameOfHandle(handle));
            return true;
        }
        entity = default;
        return false;
    }
}
