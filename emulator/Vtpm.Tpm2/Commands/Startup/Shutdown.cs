using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Startup;

/// <summary>
/// TPM 2.0 Part 3 §9.4 TPM2_Shutdown: records an orderly shutdown; with TPM_SU_STATE also writes the
/// save-state image a later Startup(STATE) resumes from. Response codes: TPM_RC_VALUE (bad type).
/// </summary>
public static class Shutdown
{
    public readonly record struct In(TpmSu ShutdownType);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt16(out ushort su);
        if (rc.IsError) return rc;
        if (su is not ((ushort)TpmSu.Clear or (ushort)TpmSu.State)) return TpmRc.Value.ForParameter(1);
        input = new In((TpmSu)su);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        tpm.NotifyShutdown(input.ShutdownType);
        if (input.ShutdownType == TpmSu.State) tpm.SaveStateImage();
        else tpm.DeleteStateImage();
        return TpmRc.Success;
    }
}
