using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.4 TPM2_SequenceUpdate: adds buffer to a hash or event sequence. Response codes:
/// TPM_RC_MODE (handle 1: not a sequence object); TPM_RC_SIZE (parameter 1, buffer too large) is the
/// generated unmarshal's.
/// </summary>
public static class SequenceUpdate
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SequenceUpdateIn input, ref SequenceUpdateOut output)
    {
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null) return TpmRc.Mode.ForHandle(1);
        sequence.Update(input.Buffer.Span);
        return TpmRc.Success;
    }
}
