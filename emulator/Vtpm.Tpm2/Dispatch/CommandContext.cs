namespace Vtpm.Tpm2.Dispatch;

/// <summary>What the transport knows about a command besides its bytes.</summary>
public readonly record struct CommandContext(byte Locality = 0, CancellationToken Cancellation = default);
