using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>PCR banks (Part 1 §17). Placeholder.</summary>
public sealed class PcrSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "PCR ";
}
