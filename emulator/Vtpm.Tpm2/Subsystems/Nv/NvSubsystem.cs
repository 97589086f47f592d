using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>NV indices (Part 1 §37). Placeholder.</summary>
public sealed class NvSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "NV  ";

    public bool Exists(uint handle) => false;
}
