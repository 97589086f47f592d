using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.4 TPM2_FlushContext: removes a loaded or saved session, or a loaded transient
/// object. The handle is a parameter, not a handle-area handle. Response codes: TPM_RC_VALUE (parameter 1:
/// not a TPMI_DH_CONTEXT), TPM_RC_HANDLE (parameter 1: nothing loaded or saved under it).
/// </summary>
public static class FlushContext
{
    public readonly record struct In(uint FlushHandle);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt32(out uint handle);
        if (rc.IsError) return rc;
        // TPMI_DH_CONTEXT: an HMAC session, a policy session or a transient object.
        if (HandleKinds.TypeOf(handle) is not (TpmHt.HmacSession or TpmHt.PolicySession or TpmHt.Transient)) return TpmRc.Value.ForParameter(1);
        input = new In(handle);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (HandleKinds.TypeOf(input.FlushHandle) == TpmHt.Transient)
            return tpm.Objects.Flush(input.FlushHandle) ? TpmRc.Success : TpmRc.Handle.ForParameter(1);
        return tpm.Sessions.Flush(input.FlushHandle) ? TpmRc.Success : TpmRc.Handle.ForParameter(1);
    }
}
