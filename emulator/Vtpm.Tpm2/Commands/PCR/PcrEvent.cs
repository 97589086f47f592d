using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.3 TPM2_PCR_Event: hashes eventData (TPM2B_EVENT, at most 1024 bytes: larger is
/// TPM_RC_SIZE for parameter 1, from the generated unmarshal) with the algorithm of each bank in which the
/// PCR is allocated, extends those digests and returns them (for TPM_RH_NULL: digests of every allocated
/// bank, nothing extended). Returning only allocated banks keeps the list within what TSSs with a smaller
/// HASH_COUNT can parse. Response codes: TPM_RC_LOCALITY.
/// </summary>
public static class PcrEvent
{
    /// <summary>What the digest of each bank is computed from (passed to the static digest callback).</summary>
    readonly ref struct EventHash(HashContexts hashes, ReadOnlySpan<byte> data)
    {
        public HashContexts Hashes { get; } = hashes;
        public ReadOnlySpan<byte> Data { get; } = data;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrEventIn input, ref PcrEventOut output)
    {
        bool extend = input.PcrHandle < PcrSubsystem.PcrCount;
        if (extend && !PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        PcrSupport.FillEventDigests(tpm.Pcr, input.PcrHandle, ref output.Digests, new EventHash(tpm.Hashes, input.EventData.Span),
            static (e, bank, destination) => e.Hashes.Digest(bank, e.Data, destination));
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, in output.Digests);
        return TpmRc.Success;
    }
}
