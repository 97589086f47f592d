using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>Clock, resetCount, restartCount, safe (Part 1 §36). Placeholder.</summary>
public sealed class ClockSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "CLCK";
}
