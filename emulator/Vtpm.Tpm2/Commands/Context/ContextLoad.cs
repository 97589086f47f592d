using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.3 TPM2_ContextLoad: loads a context made by TPM2_ContextSave. Response codes (all
/// on parameter 1, the context): TPM_RC_VALUE (savedHandle or hierarchy outside their types), TPM_RC_SIZE
/// (contextBlob too large), TPM_RC_HIERARCHY (hierarchy disabled), TPM_RC_INTEGRITY (not made by this
/// TPM since its last Reset, or altered), TPM_RC_HANDLE (not the current saved state of that session:
/// loaded already, flushed, or an older copy); TPM_RC_SESSION_MEMORY (no room to load it).
/// </summary>
public static class ContextLoad
{
    /// <summary>TPMS_CONTEXT (Part 2 §14.5).</summary>
    public readonly ref struct TpmsContext(ulong sequence, uint savedHandle, uint hierarchy, ReadOnlySpan<byte> contextBlob)
    {
        public ulong Sequence { get; } = sequence;
        public uint SavedHandle { get; } = savedHandle;
        public uint Hierarchy { get; } = hierarchy;
        public ReadOnlySpan<byte> ContextBlob { get; } = contextBlob;
    }

    public static TpmRc Parse(ref CommandFrame f, out TpmsContext context)
    {
        context = default;
        int p = f.NextParameter;
        var rc = f.ReadUInt64(out ulong sequence);
        if (rc.IsError) return rc;
        // The remaining fields belong to the same parameter: read them without advancing its number.
        if (!f.Parameters.TryReadUInt32(out uint savedHandle)) return TpmRc.Insufficient.ForParameter(p);
        // TPMI_DH_SAVED: a session, or one of the three object context handles (Part 2 §9.11).
        if (HandleKinds.TypeOf(savedHandle) is not (TpmHt.HmacSession or TpmHt.PolicySession)
            && savedHandle is not (0x80000000u or 0x80000001u or 0x80000002u))
            return TpmRc.Value.ForParameter(p);
        if (!f.Parameters.TryReadUInt32(out uint hierarchy)) return TpmRc.Insufficient.ForParameter(p);
        if (hierarchy is not ((uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Null))
            return TpmRc.Value.ForParameter(p);
        rc = f.Parameters.ReadSized16(out var blob, SessionSubsystem.MaxSessionContext);
        if (rc.IsError) return rc.ForParameter(p);
        context = new TpmsContext(sequence, savedHandle, hierarchy, blob);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var context);
        if (rc.IsError) return rc;
        if (context.Hierarchy != (uint)TpmRh.Null)
        {
            rc = tpm.Hierarchy.CheckEnabled(context.Hierarchy);
            if (rc.IsError) return rc.ForParameter(1);
        }
        // Only sessions are ever saved by this TPM, so an object context cannot pass the integrity check.
        if (HandleKinds.TypeOf(context.SavedHandle) is not (TpmHt.HmacSession or TpmHt.PolicySession)) return TpmRc.Integrity.ForParameter(1);
        rc = tpm.Sessions.Load(context.Sequence, context.SavedHandle, context.Hierarchy, context.ContextBlob, out uint loaded);
        if (rc.IsError) return rc;
        f.ResponseHandle = loaded;
        return TpmRc.Success;
    }
}
