using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Clock;

/// <summary>
/// TPM 2.0 Part 3 §29.3 TPM2_ClockRateAdjust: makes Clock run slower or faster in coarse, medium or
/// fine steps (TPM_CLOCK_ADJUST, Part 2 §6.8: -3..3). Response codes: TPM_RC_VALUE (rateAdjust
/// outside TPM_CLOCK_ADJUST, parameter 1).
/// </summary>
public static class ClockRateAdjust
{
    public readonly record struct In(sbyte RateAdjust);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt8(out byte b);
        if (rc.IsError) return rc;
        sbyte v = (sbyte)b;
        if (v is < -3 or > 3) return TpmRc.Value.ForParameter(1);
        input = new In(v);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        tpm.Clock.AdjustRate(input.RateAdjust);
        return TpmRc.Success;
    }
}
