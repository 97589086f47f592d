using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.5 TPM2_PCR_Allocate (platform authorization): each bank named in the request gets
/// the given PCRs, banks not named keep their allocation; the result takes effect at the next TPM Reset.
/// Returns allocationSuccess, maxPCR, sizeNeeded, sizeAvailable. As in libtpms (swtpm), a bank listed
/// twice takes its last entry and no PCR is required to stay allocated; allocationSuccess is NO only if
/// the PCR memory could not hold the allocation (never here: every bank has room for 24 PCRs).
/// Response codes: TPM_RC_HASH / TPM_RC_VALUE / TPM_RC_SIZE (parameter 1: selection syntax).
/// </summary>
public static class PcrAllocate
{
    public readonly record struct In(TpmsPcrSelection[] PcrAllocation);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadStructure<TpmsPcrSelection[]>(PcrSupport.ReadPcrSelectionList, out var sel);
        input = new In(sel);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        Span<uint> masks = stackalloc uint[4];
        for (int b = 0; b < 4; b++) masks[b] = tpm.Pcr.AllocatedMask(PcrSubsystem.Banks[b]);
        foreach (var s in input.PcrAllocation)
            masks[PcrSubsystem.BankIndex(s.Hash)] = s.PcrSelect & ((1u << PcrSubsystem.PcrCount) - 1);

        uint sizeNeeded = PcrSubsystem.SizeNeeded(masks);
        uint sizeAvailable = PcrSubsystem.SizeAvailable;
        bool success = sizeNeeded <= sizeAvailable;
        if (success) tpm.Pcr.SetAllocation(masks);
        f.Response.WriteUInt8(success ? (byte)1 : (byte)0);
        f.Response.WriteUInt32(PcrSubsystem.PcrCount);
        f.Response.WriteUInt32(sizeNeeded);
        f.Response.WriteUInt32(sizeAvailable);
        return TpmRc.Success;
    }
}
