using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.5 TPM2_SequenceComplete: adds the last buffer, returns the digest and a
/// TPMT_TK_HASHCHECK for hierarchy, and flushes the sequence object. Response codes: TPM_RC_MODE
/// (handle 1: not a hash sequence — an event sequence needs EventSequenceComplete); TPM_RC_SIZE
/// (parameter 1) and TPM_RC_VALUE (parameter 2, TPMI_RH_HIERARCHY+) are the generated unmarshal's.
/// </summary>
public static class SequenceComplete
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SequenceCompleteIn input, ref SequenceCompleteOut output)
    {
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null || sequence.IsEventSequence) return TpmRc.Mode.ForHandle(1);
        sequence.Update(input.Buffer.Span);
        output.Result.Size = (ushort)sequence.Complete(sequence.HashAlg, output.Result.Buffer);
        HashSupport.FillHashCheck(tpm, ref output.Validation, input.Hierarchy, output.Result.Span, sequence.TicketSafe);
        tpm.Objects.Flush(input.SequenceHandle);
        return TpmRc.Success;
    }
}
