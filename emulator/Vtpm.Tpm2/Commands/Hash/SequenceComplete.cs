using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.5 TPM2_SequenceComplete: adds the last buffer, returns the digest and a
/// TPMT_TK_HASHCHECK for hierarchy, and flushes the sequence object. Response codes: TPM_RC_MODE
/// (handle 1: not a hash sequence — an event sequence needs EventSequenceComplete), TPM_RC_SIZE
/// (parameter 1), TPM_RC_VALUE (parameter 2, not a hierarchy).
/// </summary>
public static class SequenceComplete
{
    public readonly ref struct In(uint sequenceHandle, ReadOnlySpan<byte> buffer, uint hierarchy)
    {
        public uint SequenceHandle { get; } = sequenceHandle;
        public ReadOnlySpan<byte> Buffer { get; } = buffer;
        public uint Hierarchy { get; } = hierarchy;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var buffer, HashSupport.MaxBuffer);
        if (rc.IsError) return rc;
        rc = f.ReadUInt32(out uint hierarchy);
        if (rc.IsError) return rc;
        if (!HashSupport.IsHierarchyOrNull(hierarchy)) return TpmRc.Value.ForParameter(2);
        input = new In(f.Handles[0], buffer, hierarchy);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null || sequence.IsEventSequence) return TpmRc.Mode.ForHandle(1);
        sequence.Update(input.Buffer);
        Span<byte> digest = stackalloc byte[Crypto.TpmHash.MaxDigestSize];
        digest = digest[..sequence.Complete(sequence.HashAlg, digest)];
        f.Response.WriteSized16(digest);
        HashSupport.WriteHashCheck(tpm, ref f.Response, input.Hierarchy, digest, sequence.TicketSafe);
        tpm.Objects.Flush(input.SequenceHandle);
        return TpmRc.Success;
    }
}
