using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.8 TPM2_NV_Increment: adds one to a counter index. The first increment starts
/// from the highest value any counter of this TPM has had (Part 1 §37.2.3), so counters never repeat.
/// Response codes: TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (not a counter, handle 2).
/// </summary>
public static class NvIncrement
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvIncrementIn input, ref NvIncrementOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type != TpmNt.Counter) return TpmRc.Attributes.ForHandle(2);
        ulong value = index.Has(TpmaNv.Written) ? NvSubsystem.ReadUInt64(index) : tpm.Nv.MaxCounter;
        tpm.Nv.WriteUInt64(index, value + 1);
        return TpmRc.Success;
    }
}
