using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.3 TPM2_PCR_Event: hashes eventData (TPM2B_EVENT, at most 1024 bytes) with the
/// algorithm of each bank in which the PCR is allocated, extends those digests and returns them (for
/// TPM_RH_NULL: digests of every allocated bank, nothing extended). Returning only allocated banks keeps
/// the list within what TSSs with a smaller HASH_COUNT can parse. Response codes: TPM_RC_LOCALITY,
/// TPM_RC_SIZE (eventData too large).
/// </summary>
public static class PcrEvent
{
    /// <summary>Size of TPM2B_EVENT's buffer (Part 2 §10.4.7).</summary>
    public const int MaxEventSize = 1024;

    public readonly ref struct In(uint pcrHandle, ReadOnlySpan<byte> eventData)
    {
        public uint PcrHandle { get; } = pcrHandle;
        public ReadOnlySpan<byte> EventData { get; } = eventData;
    }

    /// <summary>What the digest of each bank is computed from (passed to the static digest callback).</summary>
    readonly ref struct EventHash(HashContexts hashes, ReadOnlySpan<byte> data)
    {
        public HashContexts Hashes { get; } = hashes;
        public ReadOnlySpan<byte> Data { get; } = data;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadSized16(out var data, MaxEventSize);
        input = new In(f.Handles[0], data);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        bool extend = input.PcrHandle < PcrSubsystem.PcrCount;
        if (extend && !PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        Span<byte> digests = stackalloc byte[PcrSupport.MaxDigestValuesSize];
        int n = PcrSupport.WriteEventDigests(tpm.Pcr, input.PcrHandle, digests, new EventHash(tpm.Hashes, input.EventData),
            static (e, bank, destination) => e.Hashes.Digest(bank, e.Data, destination));
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, digests[..n]);
        f.Response.WriteBytes(digests[..n]);
        return TpmRc.Success;
    }
}
