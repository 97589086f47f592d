using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.14 TPM2_NV_ReadLock: sets TPMA_NV_READLOCKED on an index with READ_STCLEAR
/// until the next Startup(CLEAR). An unwritten or already locked index may be locked.
/// Response codes: TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (READ_STCLEAR is CLEAR, handle 2).
/// </summary>
public static class NvReadLock
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvReadLockIn input, ref NvReadLockOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckRead(input.AuthHandle, f.AuthSessions[0], index, requireWritten: false);
        if (rc == TpmRc.NvAuthorization) return rc;
        if (!index.Has(TpmaNv.ReadStClear)) return TpmRc.Attributes.ForHandle(2);
        index.SetAttributes(index.Attributes | TpmaNv.ReadLocked);
        tpm.Nv.Changed();
        return TpmRc.Success;
    }
}
