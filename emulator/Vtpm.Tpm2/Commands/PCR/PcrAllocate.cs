using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.5 TPM2_PCR_Allocate (platform authorization): each bank named in the request gets
/// the given PCRs, banks not named keep their allocation; the result takes effect at the next TPM Reset.
/// Returns allocationSuccess, maxPCR, sizeNeeded, sizeAvailable. As in libtpms (swtpm), a bank listed
/// twice takes its last entry and no PCR is required to stay allocated; allocationSuccess is NO only if
/// the PCR memory could not hold the allocation (never here: every bank has room for 24 PCRs).
/// Response codes: TPM_RC_HASH / TPM_RC_VALUE / TPM_RC_SIZE (parameter 1: selection syntax, from the
/// generated TPML_PCR_SELECTION unmarshal).
/// </summary>
public static class PcrAllocate
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrAllocateIn input, ref PcrAllocateOut output)
    {
        Span<uint> masks = stackalloc uint[PcrSubsystem.Banks.Count];
        for (int b = 0; b < masks.Length; b++) masks[b] = tpm.Pcr.AllocatedMask(PcrSubsystem.Banks[b]);
        for (int i = 0; i < (int)input.PcrAllocation.Count; i++)
        {
            ref readonly var s = ref input.PcrAllocation.PcrSelections[i];
            masks[PcrSubsystem.BankIndex(s.Hash)] = PcrSupport.Mask(in s) & ((1u << PcrSubsystem.PcrCount) - 1);
        }

        uint sizeNeeded = PcrSubsystem.SizeNeeded(masks);
        uint sizeAvailable = PcrSubsystem.SizeAvailable;
        bool success = sizeNeeded <= sizeAvailable;
        if (success) tpm.Pcr.SetAllocation(masks);
        output.AllocationSuccess = success ? (byte)1 : (byte)0;
        output.MaxPCR = PcrSubsystem.PcrCount;
        output.SizeNeeded = sizeNeeded;
        output.SizeAvailable = sizeAvailable;
        return TpmRc.Success;
    }
}
