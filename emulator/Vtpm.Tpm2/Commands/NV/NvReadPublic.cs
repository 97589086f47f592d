using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.6 TPM2_NV_ReadPublic: returns the index's TPMS_NV_PUBLIC (with its current
/// WRITTEN/locked attributes) and its Name. No authorization. Response codes: none of its own.
/// </summary>
public static class NvReadPublic
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvReadPublicIn input, ref NvReadPublicOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(1);
        output.NvPublic.NvPublic = tpm.Nv.EffectivePublic(index);
        output.NvName = Tpm2bName.From(tpm.Nv.GetName(index));
        return TpmRc.Success;
    }
}
