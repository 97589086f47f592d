using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.4 TPM2_PCR_Read: returns pcrUpdateCounter, the selection actually read and the
/// digests in selection order. Bits for PCRs not allocated are cleared; like the reference, at most 8
/// digests are returned per response (TPML_DIGEST's limit) and the returned selection says which, so
/// the caller asks again for the rest. Response codes: TPM_RC_HASH / TPM_RC_VALUE / TPM_RC_SIZE for
/// parameter 1 (unimplemented bank, sizeofSelect out of range, more than HASH_COUNT banks), all from the
/// generated TPML_PCR_SELECTION unmarshal.
/// </summary>
public static class PcrRead
{
    /// <summary>The most digests a TPML_DIGEST holds (Part 2 §10.9.5; the reference's 8).</summary>
    public const int MaxDigests = 8;

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PcrReadIn input, ref PcrReadOut output)
    {
        output.PcrUpdateCounter = tpm.Pcr.UpdateCounter;
        output.PcrSelectionOut = input.PcrSelectionIn;
        int digests = 0;
        for (int i = 0; i < (int)output.PcrSelectionOut.Count; i++)
        {
            ref var selection = ref output.PcrSelectionOut.PcrSelections[i];
            uint wanted = PcrSupport.Mask(in selection) & tpm.Pcr.ActiveMask(selection.Hash);
            uint returned = 0;
            for (int p = 0; p < PcrSubsystem.PcrCount && digests < MaxDigests; p++)
            {
                if ((wanted & (1u << p)) == 0) continue;
                returned |= 1u << p;
                ref var value = ref output.PcrValues.Digests[digests++];
                var pcr = tpm.Pcr.Read(selection.Hash, p);
                pcr.CopyTo(value.Buffer);
                value.Size = (ushort)pcr.Length;
            }
            PcrSupport.SetMask(ref selection, returned);
        }
        output.PcrValues.Count = (uint)digests;
        return TpmRc.Success;
    }
}
