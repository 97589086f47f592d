using Vtpm.Tpm2.Commands.PCR;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.6 TPM2_EventSequenceComplete: adds the last buffer to an event sequence, extends
/// the digests into pcrHandle (unless TPM_RH_NULL) in every bank where it is allocated, returns them and
/// flushes the sequence. Response codes: TPM_RC_LOCALITY (the PCR may not be extended at this locality),
/// TPM_RC_MODE (handle 2: not an event sequence), TPM_RC_SIZE (parameter 1).
/// </summary>
public static class EventSequenceComplete
{
    public readonly ref struct In(uint pcrHandle, uint sequenceHandle, ReadOnlySpan<byte> buffer)
    {
        public uint PcrHandle { get; } = pcrHandle;
        public uint SequenceHandle { get; } = sequenceHandle;
        public ReadOnlySpan<byte> Buffer { get; } = buffer;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadSized16(out var buffer, HashSupport.MaxBuffer);
        input = new In(f.Handles[0], f.Handles[1], buffer);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        bool extend = input.PcrHandle < PcrSubsystem.PcrCount;
        if (extend && !PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null || !sequence.IsEventSequence) return TpmRc.Mode.ForHandle(2);
        sequence.Update(input.Buffer);
        Span<byte> digests = stackalloc byte[PcrSupport.MaxDigestValuesSize];
        int n = PcrSupport.WriteEventDigests(tpm.Pcr, input.PcrHandle, digests, sequence,
            static (s, bank, destination) => s.Complete(bank, destination));
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, digests[..n]);
        f.Response.WriteBytes(digests[..n]);
        tpm.Objects.Flush(input.SequenceHandle);
        return TpmRc.Success;
    }
}
