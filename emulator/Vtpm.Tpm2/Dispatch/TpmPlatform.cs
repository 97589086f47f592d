using System.Diagnostics;
using System.Security.Cryptography;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// What the TPM takes from its platform: entropy, time and physical presence. Tests replace it to make
/// runs deterministic (style rule 7: determinism by injection).
/// </summary>
public class TpmPlatform
{
    readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>Fills <paramref name="destination"/> with entropy (the DRBG's seed source).</summary>
    public virtual void GetEntropy(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

    /// <summary>Milliseconds since this platform object was created; never goes backwards.</summary>
    public virtual ulong MonotonicMilliseconds => (ulong)Stopwatch.GetElapsedTime(_start).TotalMilliseconds;

    /// <summary>Physical presence asserted (MS simulator PHYS_PRES_ON).</summary>
    public bool PhysicalPresence { get; set; }

    /// <summary>A cancel request is pending (MS simulator CANCEL_ON, swtpm CANCEL_TPM_CMD).</summary>
    public volatile bool CancelRequested;
}
