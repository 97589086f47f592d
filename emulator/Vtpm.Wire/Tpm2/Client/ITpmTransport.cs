namespace Vtpm.Wire.Tpm2.Client;

/// <summary>
/// Carries one TPM command to a TPM and its response back: a socket (swtpm, simulator protocol), a tpmif ring,
/// /dev/tpmrm0, or an engine in the same process.
/// </summary>
public interface ITpmTransport
{
    /// <summary>Sends <paramref name="command"/> and writes the whole response into <paramref name="response"/>; returns its length.</summary>
    int Transact(ReadOnlySpan<byte> command, Span<byte> response);
}
