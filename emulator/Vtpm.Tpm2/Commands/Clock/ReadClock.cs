using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Clock;

/// <summary>
/// TPM 2.0 Part 3 §29.1 TPM2_ReadClock: returns TPMS_TIME_INFO (Time, and TPMS_CLOCK_INFO: Clock,
/// resetCount, restartCount, safe), as the clock subsystem fills it. Response codes: none of its own.
/// </summary>
public static class ReadClock
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ReadClockIn input, ref ReadClockOut output)
    {
        output.CurrentTime = tpm.Clock.TimeInfo;
        return TpmRc.Success;
    }
}
