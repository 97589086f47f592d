using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.4 TPM2_FlushContext: removes a loaded or saved session, or a loaded transient
/// object. The handle is a parameter, not a handle-area handle. Response codes: TPM_RC_VALUE (parameter 1:
/// not a TPMI_DH_CONTEXT, from the generated unmarshal), TPM_RC_HANDLE (parameter 1: nothing loaded or saved under it).
/// </summary>
public static class FlushContext
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in FlushContextIn input, ref FlushContextOut output)
    {
        if (HandleKinds.TypeOf(input.FlushHandle) == TpmHt.Transient)
            return tpm.Objects.Flush(input.FlushHandle) ? TpmRc.Success : TpmRc.Handle.ForParameter(1);
        return tpm.Sessions.Flush(input.FlushHandle) ? TpmRc.Success : TpmRc.Handle.ForParameter(1);
    }
}
