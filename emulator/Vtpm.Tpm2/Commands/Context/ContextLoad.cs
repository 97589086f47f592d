using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.3 TPM2_ContextLoad: loads a context made by TPM2_ContextSave. Response codes (all
/// on parameter 1, the context): TPM_RC_VALUE (savedHandle or hierarchy outside TPMI_DH_SAVED / TPMI_RH_HIERARCHY+:
/// the generated TPMS_CONTEXT), TPM_RC_SIZE (contextBlob larger than a session context), TPM_RC_HIERARCHY
/// (hierarchy disabled), TPM_RC_INTEGRITY (not made by this TPM since its last Reset, or altered), TPM_RC_HANDLE
/// (not the current saved state of that session: loaded already, flushed, or an older copy);
/// TPM_RC_SESSION_MEMORY (no room to load it).
/// </summary>
public static class ContextLoad
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ContextLoadIn input, ref ContextLoadOut output)
    {
        ref readonly var context = ref input.Context;
        // A session's blob is at most TPM_PT_MAX_SESSION_CONTEXT octets: a larger one is TPM_RC_SIZE before anything else
        // is looked at. An object context may be larger (up to MAX_CONTEXT_SIZE, the generated TPM2B_CONTEXT_DATA's limit).
        bool objectContext = context.SavedHandle == ObjectSubsystem.SavedObjectHandle;
        if (!objectContext && context.ContextBlob.Size > SessionSubsystem.MaxSessionContext) return TpmRc.Size.ForParameter(1);
        if (context.Hierarchy != (uint)TpmRh.Null)
        {
            var rc = tpm.Hierarchy.CheckEnabled(context.Hierarchy);
            if (rc.IsError) return rc.ForParameter(1);
        }
        if (objectContext)
        {
            var rc = tpm.Objects.LoadContext(context, out uint handle);
            output.LoadedHandle = handle;
            return rc;
        }
        // Sessions and key or data objects are what this TPM saves: any other savedHandle cannot pass the integrity check.
        if (HandleKinds.TypeOf(context.SavedHandle) is not (TpmHt.HmacSession or TpmHt.PolicySession)) return TpmRc.Integrity.ForParameter(1);
        var result = tpm.Sessions.Load(context.Sequence, context.SavedHandle, context.Hierarchy, context.ContextBlob.Span, out uint loaded);
        if (result.IsError) return result;
        output.LoadedHandle = loaded;
        return TpmRc.Success;
    }
}
