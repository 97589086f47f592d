using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.2 TPM2_ContextSave: saves a loaded session (its state leaves TPM RAM) or a loaded key or data
/// object (it stays loaded) in an integrity-protected, encrypted TPMS_CONTEXT. Sequence objects are not saved yet.
/// Response codes: TPM_RC_CONTEXT_GAP, TPM_RC_HANDLE (handle 1: not a session), TPM_RC_SIZE (the context does not
/// fit in the response).
/// </summary>
public static class ContextSave
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ContextSaveIn input, ref ContextSaveOut output)
    {
        if (HandleKinds.TypeOf(input.SaveHandle) == TpmHt.Transient) return tpm.Objects.SaveContext(input.SaveHandle, f.Response.Free, ref output.Context);
        if (HandleKinds.TypeOf(input.SaveHandle) is not (TpmHt.HmacSession or TpmHt.PolicySession)) return TpmRc.Handle.ForHandle(1);
        return tpm.Sessions.Save(input.SaveHandle, f.Response.Free, ref output.Context);
    }
}
