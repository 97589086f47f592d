using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.12 TPM2_NV_GlobalWriteLock: write-locks every index with TPMA_NV_GLOBALLOCK
/// until the next Startup(CLEAR). Response codes: none of its own.
/// </summary>
public static class NvGlobalWriteLock
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvGlobalWriteLockIn input, ref NvGlobalWriteLockOut output)
    {
        tpm.Nv.SetGlobalLock();
        return TpmRc.Success;
    }
}
