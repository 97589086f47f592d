using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>The TPM's random number generator (Part 1 §11.4.10). Placeholder: to become a DRBG per the spec.</summary>
public sealed class RandomSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "RAND";

    public void Generate(Span<byte> destination) => Tpm.Platform.GetEntropy(destination);
}
