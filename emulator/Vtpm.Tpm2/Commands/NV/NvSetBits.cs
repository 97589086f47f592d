using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.10 TPM2_NV_SetBits: ORs bits into a bit-field index (an unwritten index starts
/// at 0). Response codes: TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (not a bits index, handle 2).
/// </summary>
public static class NvSetBits
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvSetBitsIn input, ref NvSetBitsOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type != TpmNt.Bits) return TpmRc.Attributes.ForHandle(2);
        ulong old = index.Has(TpmaNv.Written) ? NvSubsystem.ReadUInt64(index) : 0;
        tpm.Nv.WriteUInt64(index, old | input.Bits);
        return TpmRc.Success;
    }
}
