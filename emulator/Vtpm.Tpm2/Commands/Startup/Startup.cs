using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Startup;

/// <summary>
/// TPM 2.0 Part 3 §9.3 TPM2_Startup. Decides which of Part 1 §12.2's startups this is from the last
/// orderly shutdown: Startup(CLEAR) after Shutdown(STATE) is a TPM Restart, otherwise a TPM Reset;
/// Startup(STATE) after Shutdown(STATE) is a TPM Resume and restores the save-state image.
/// Response codes: TPM_RC_VALUE (parameter 1: not a TPM_SU — the generated unmarshal, Part 2 §6.10 — or
/// Startup(STATE) without a preceding Shutdown(STATE) or image); TPM_RC_INITIALIZE (already started — answered by
/// the dispatcher's gate); TPM_RC_LOCALITY (not locality 0 or 3).
/// </summary>
public static class Startup
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in StartupIn input, ref StartupOut output)
    {
        // PC Client (and the reference, libtpms): Startup only from locality 0 or 3.
        if (f.Locality is not (0 or 3)) return TpmRc.Locality;
        bool afterShutdownState = tpm.Engine.OrderlyShutdown == TpmSu.State;
        StartupKind kind;
        if (input.StartupType == TpmSu.State)
        {
            // An H-CRTM measurement must land in PCR 0, which a Resume would restore instead (Part 3 §6.5).
            if (tpm.Pcr.HcrtmPending) return TpmRc.Value.ForParameter(1);
            if (!afterShutdownState || !tpm.LoadStateImage()) return TpmRc.Value.ForParameter(1);
            kind = StartupKind.Resume;
        }
        else
        {
            kind = afterShutdownState ? StartupKind.Restart : StartupKind.Reset;
        }
        tpm.Engine.StartupLocality = f.Locality;
        tpm.NotifyStartup(kind);
        // The image is single-use: a later power loss must not resume it again (Part 1 §12.2.3).
        tpm.DeleteStateImage();
        return TpmRc.Success;
    }
}
