using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// A PCR selection as the TPM reports it back and the digest of the selected PCRs (creation data, quotes: Part 1
/// §17.5.3): only PCRs of active banks count, hashed in selection order — banks as listed, PCRs ascending.
/// </summary>
public static class PcrSelectionDigest
{
    public static byte[] Compute(Tpm2Engine tpm, in TpmlPcrSelection requested, TpmAlgId hashAlg, ref TpmlPcrSelection selected)
    {
        selected.Count = requested.Count;
        var values = new List<byte>();
        for (int b = 0; b < (int)requested.Count; b++)
        {
            ref readonly var s = ref requested.PcrSelections[b];
            ref var d = ref selected.PcrSelections[b];
            d.Hash = s.Hash;
            d.SizeofSelect = s.SizeofSelect;
            uint active = tpm.Pcr.ActiveMask(s.Hash);
            for (int i = 0; i < s.SizeofSelect; i++)
            {
                for (int bit = 0; bit < 8; bit++)
                {
                    int pcr = 8 * i + bit;
                    if ((s.PcrSelect[i] & (1 << bit)) == 0 || pcr >= PcrSubsystem.PcrCount || (active & (1u << pcr)) == 0) continue;
                    d.PcrSelect[i] |= (byte)(1 << bit);
                    values.AddRange(tpm.Pcr.Read(s.Hash, pcr));
                }
            }
        }
        return TpmHash.Hash(hashAlg, [.. values]);
    }
}
