using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.6 TPM2_NV_ReadPublic: returns the index's TPMS_NV_PUBLIC (with its current
/// WRITTEN/locked attributes) and its Name. No authorization. Response codes: none of its own.
/// </summary>
public static class NvReadPublic
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        if (!tpm.Nv.TryGetAccessible(f.Handles[0], out var index)) return TpmRc.Handle.ForHandle(1);
        var pub = tpm.Nv.EffectivePublic(index);
        new Tpm2bNvPublic { NvPublic = pub }.Marshal(ref f.Response);
        f.Response.WriteSized16(pub.ComputeName());
        return TpmRc.Success;
    }
}
