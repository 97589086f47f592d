using Vtpm.Tpm2.Commands.PCR;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.6 TPM2_EventSequenceComplete: adds the last buffer to an event sequence, extends
/// the digests into pcrHandle (unless TPM_RH_NULL) in every bank where it is allocated, returns them and
/// flushes the sequence. Response codes: TPM_RC_LOCALITY (the PCR may not be extended at this locality),
/// TPM_RC_MODE (handle 2: not an event sequence); TPM_RC_SIZE (parameter 1) is the generated unmarshal's.
/// </summary>
public static class EventSequenceComplete
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in EventSequenceCompleteIn input, ref EventSequenceCompleteOut output)
    {
        bool extend = input.PcrHandle < PcrSubsystem.PcrCount;
        if (extend && !PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        var sequence = tpm.Objects.GetSequence(input.SequenceHandle);
        if (sequence is null || !sequence.IsEventSequence) return TpmRc.Mode.ForHandle(2);
        sequence.Update(input.Buffer.Span);
        PcrSupport.FillEventDigests(tpm.Pcr, input.PcrHandle, ref output.Results, sequence,
            static (s, bank, destination) => s.Complete(bank, destination));
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, in output.Results);
        tpm.Objects.Flush(input.SequenceHandle);
        return TpmRc.Success;
    }
}
