using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// The platform hash signals _TPM_Hash_Start / _TPM_Hash_Data / _TPM_Hash_End (Part 3 §6.3–6.5, Part 1
/// §34.5): an H-CRTM (before TPM2_Startup) or DRTM (after) measurement sequence delivered at locality 4
/// outside the command stream — swtpm's CMD_HASH_START/DATA/END, the MS simulator's TPM_SIGNAL_HASH_*.
/// </summary>
public sealed partial class Tpm2Engine
{
    IncrementalHash[]? _hashSignal;

    /// <summary>The PC Client DRTM PCR.</summary>
    public const int DrtmPcr = 17;

    /// <summary>An H-CRTM sequence completed since _TPM_Init and before TPM2_Startup: its digests, per bank.</summary>
    internal IReadOnlyDictionary<TpmAlgId, byte[]>? PendingHcrtm { get; set; }

    /// <summary>
    /// The PC Client TPM_ACCESS.tpmEstablishment flag (true = a DRTM/H-CRTM sequence ran since it was last
    /// reset). Set by _TPM_Hash_Start; cleared only by the platform at locality 3 or 4 (swtpm
    /// CMD_RESET_TPMESTABLISHED). Held in RAM for the life of the instance.
    /// </summary>
    public bool TpmEstablished { get; private set; }

    /// <summary>Digests of the last completed hash-signal sequence, one per implemented bank.</summary>
    public IReadOnlyDictionary<TpmAlgId, byte[]>? LastHashSignalDigests { get; private set; }

    /// <summary>True while a _TPM_Hash_Start sequence is open.</summary>
    public bool HashSignalActive
    {
        get { lock (_gate) return _hashSignal is not null; }
    }

    /// <summary>_TPM_Hash_Start (Part 3 §6.3): opens an event sequence over every implemented hash; an open one is discarded.</summary>
    /// <returns>False if the TPM is not powered on (the signal is ignored).</returns>
    public bool HashStart()
    {
        lock (_gate)
        {
            if (!IsPoweredOn) return false;
            DisposeHashSignal();
            _hashSignal = [.. TpmHash.Implemented.Select(TpmHash.CreateIncremental)];
            TpmEstablished = true;
            return true;
        }
    }

    /// <summary>_TPM_Hash_Data (Part 3 §6.4): adds data to the open sequence; false if none is open.</summary>
    public bool HashData(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (_hashSignal is null) return false;
            foreach (var h in _hashSignal) h.AppendData(data);
            return true;
        }
    }

    /// <summary>
    /// _TPM_Hash_End (Part 3 §6.5): completes the sequence. Before TPM2_Startup it is an H-CRTM event
    /// (PCR 0 of every bank reset to 0 and extended; Startup locality becomes 4); after, a DRTM event
    /// (PCR 17 reset to 0 and extended with the digest).
    /// </summary>
    /// <returns>False if no sequence was open.</returns>
    public bool HashEnd()
    {
        lock (_gate)
        {
            if (_hashSignal is null) return false;
            var digests = new Dictionary<TpmAlgId, byte[]>();
            for (int i = 0; i < _hashSignal.Length; i++) digests[TpmHash.Implemented[i]] = _hashSignal[i].GetHashAndReset();
            DisposeHashSignal();
            LastHashSignalDigests = digests;
            if (IsStarted)
            {
                // DRTM (Part 3 §6.5, PC Client): the dynamic PCRs 17-22 are reset to zero and the digest is
                // extended into PCR 17 of every bank (swtpm: PCR 17 = H(0 || H(data)), 18-22 zero).
                for (int pcr = 0; pcr < PcrSubsystem.PcrCount; pcr++)
                {
                    if ((PcrSubsystem.DrtmResetMask & (1u << pcr)) != 0) Pcr.ResetPcr(pcr);
                }
                foreach (var (bank, digest) in digests) Pcr.Extend(DrtmPcr, bank, digest);
                Pcr.Changed(DrtmPcr);
            }
            else
            {
                // H-CRTM before TPM2_Startup: applied by the Startup that follows (PCR 0 starts at 4).
                PendingHcrtm = digests;
            }
            return true;
        }
    }

    void DisposeHashSignal()
    {
        if (_hashSignal is null) return;
        foreach (var h in _hashSignal) h.Dispose();
        _hashSignal = null;
    }

    /// <summary>swtpm CMD_RESET_TPMESTABLISHED: only the platform at locality 3 or 4 may clear the flag.</summary>
    public bool ResetTpmEstablished(byte locality)
    {
        if (locality is not (3 or 4)) return false;
        lock (_gate) TpmEstablished = false;
        return true;
    }
}
