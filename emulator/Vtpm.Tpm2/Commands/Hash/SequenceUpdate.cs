using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.4 TPM2_SequenceUpdate: adds buffer to a hash or event sequence. Response codes:
/// TPM_RC_MODE (handle 1: not a sequence object), TPM_RC_SIZE (parameter 1, buffer too large).
/// </summary>
public static class SequenceUpdate
{
    public readonly ref struct In(uint sequenceHandle, ReadOnlySpan<byte> buffer)
    {
        public uint SequenceHandle { get; } = sequenceHandle;
        public ReadOnlySpan<byte> Buffer { get; } = buffer;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadSized16(out var buffer, HashSupport.MaxBuffer);
        input = new In(f.Handles[0], buffer);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null) return TpmRc.Mode.ForHandle(1);
        sequence.Update(input.Buffer);
        return TpmRc.Success;
    }
}
