using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Clock;

/// <summary>
/// TPM 2.0 Part 3 §29.3 TPM2_ClockRateAdjust: makes Clock run slower or faster in coarse, medium or
/// fine steps (TPM_CLOCK_ADJUST, Part 2 §6.7: -3..3). Response codes: TPM_RC_VALUE (rateAdjust
/// outside TPM_CLOCK_ADJUST, parameter 1) is the generated unmarshal's (TPMI_CLOCK_ADJUST in the catalog).
/// </summary>
public static class ClockRateAdjust
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ClockRateAdjustIn input, ref ClockRateAdjustOut output)
    {
        tpm.Clock.AdjustRate((sbyte)input.RateAdjust);
        return TpmRc.Success;
    }
}
