using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Startup;

/// <summary>
/// TPM 2.0 Part 3 §9.4 TPM2_Shutdown: records an orderly shutdown; with TPM_SU_STATE also writes the
/// save-state image a later Startup(STATE) resumes from. Response codes: TPM_RC_VALUE (parameter 1: not a TPM_SU —
/// the generated unmarshal, Part 2 §6.10), TPM_RC_TYPE (Shutdown(STATE) while a PCR allocation is pending).
/// </summary>
public static class Shutdown
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ShutdownIn input, ref ShutdownOut output)
    {
        // A pending PCR_Allocate only takes effect at a TPM Reset, so a state image would carry banks that
        // no longer match; the reference (and swtpm) refuse Shutdown(STATE) then.
        if (input.ShutdownType == TpmSu.State && tpm.Pcr.AllocationPending) return TpmRc.Type.ForParameter(1);
        tpm.NotifyShutdown(input.ShutdownType);
        if (input.ShutdownType == TpmSu.State) tpm.SaveStateImage();
        else tpm.DeleteStateImage();
        return TpmRc.Success;
    }
}
