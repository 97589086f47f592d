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
    public readonly record struct In(ulong Bits);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadUInt64(out ulong bits);
        input = new In(bits);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Nv.TryGetAccessible(f.Handles[1], out var index)) return TpmRc.Handle.ForHandle(2);
        rc = tpm.Nv.CheckWrite(f.Handles[0], f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type != TpmNt.Bits) return TpmRc.Attributes.ForHandle(2);
        ulong old = index.Has(TpmaNv.Written) ? NvSubsystem.ReadUInt64(index) : 0;
        tpm.Nv.WriteUInt64(index, old | input.Bits);
        return TpmRc.Success;
    }
}
