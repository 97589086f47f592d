using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.11 TPM2_NV_WriteLock: sets TPMA_NV_WRITELOCKED on an index with WRITEDEFINE
/// (until undefined) or WRITE_STCLEAR (until the next Startup(CLEAR)). Locking a locked index succeeds.
/// Response codes: TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (neither WRITEDEFINE nor WRITE_STCLEAR, handle 2).
/// </summary>
public static class NvWriteLock
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvWriteLockIn input, ref NvWriteLockOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc == TpmRc.NvAuthorization) return rc;
        if (rc.IsError) return TpmRc.Success;
        if (!index.Has(TpmaNv.WriteDefine) && !index.Has(TpmaNv.WriteStClear)) return TpmRc.Attributes.ForHandle(2);
        index.SetAttributes(index.Attributes | TpmaNv.WriteLocked);
        tpm.Nv.Changed();
        return TpmRc.Success;
    }
}
