using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Clock;

/// <summary>
/// TPM 2.0 Part 3 §29.1 TPM2_ReadClock: returns TPMS_TIME_INFO (Time, and TPMS_CLOCK_INFO: Clock,
/// resetCount, restartCount, safe). Response codes: none of its own.
/// </summary>
public static class ReadClock
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        tpm.Clock.WriteTimeInfo(ref f.Response);
        return TpmRc.Success;
    }
}
