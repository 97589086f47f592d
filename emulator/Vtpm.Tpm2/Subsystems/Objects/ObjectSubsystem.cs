using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>Loaded transient objects, including hash and event sequence objects (Part 1 §32). Placeholder.</summary>
public sealed class ObjectSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "OBJ ";
}
