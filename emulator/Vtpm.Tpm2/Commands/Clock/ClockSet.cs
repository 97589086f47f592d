using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Clock;

/// <summary>
/// TPM 2.0 Part 3 §29.2 TPM2_ClockSet: advances Clock (owner or platform authorization). Clock never
/// goes backwards and may not be set within 2^48 ms of its maximum (the reference's limit, so that it
/// cannot roll over). Response codes: TPM_RC_VALUE (newTime below the current Clock or above the
/// maximum, parameter 1).
/// </summary>
public static class ClockSet
{
    /// <summary>The largest settable Clock (Part 3 §29.2: 0xFFFF000000000000).</summary>
    public const ulong MaxClock = 0xFFFF_0000_0000_0000UL;

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ClockSetIn input, ref ClockSetOut output)
    {
        if (input.NewTime > MaxClock || input.NewTime < tpm.Clock.Clock) return TpmRc.Value.ForParameter(1);
        tpm.Clock.Set(input.NewTime);
        return TpmRc.Success;
    }
}
