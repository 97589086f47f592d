using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.4 TPM2_PCR_Read: returns pcrUpdateCounter, the selection actually read and the
/// digests in selection order. Bits for PCRs not allocated are cleared; like the reference, at most 8
/// digests are returned per response (TPML_DIGEST's limit) and the returned selection says which, so
/// the caller asks again for the rest. Response codes: TPM_RC_HASH / TPM_RC_VALUE / TPM_RC_SIZE
/// (selection: unimplemented bank, sizeofSelect out of range, more than HASH_COUNT banks).
/// </summary>
public static class PcrRead
{
    /// <summary>The most digests a TPML_DIGEST holds (Part 2 §10.9.3).</summary>
    public const int MaxDigests = 8;

    public readonly record struct In(TpmsPcrSelection[] PcrSelectionIn);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadStructure<TpmsPcrSelection[]>(PcrSupport.ReadPcrSelectionList, out var sel);
        input = new In(sel);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        var selections = input.PcrSelectionIn;
        var digests = new List<byte[]>();
        var returned = new uint[selections.Length];
        for (int i = 0; i < selections.Length; i++)
        {
            uint wanted = selections[i].PcrSelect & tpm.Pcr.ActiveMask(selections[i].Hash);
            for (int p = 0; p < PcrSubsystem.PcrCount; p++)
            {
                if ((wanted & (1u << p)) == 0) continue;
                if (digests.Count == MaxDigests) break;
                digests.Add(tpm.Pcr.Read(selections[i].Hash, p).ToArray());
                returned[i] |= 1u << p;
            }
        }
        f.Response.WriteUInt32(tpm.Pcr.UpdateCounter);
        f.Response.WriteUInt32((uint)selections.Length);
        for (int i = 0; i < selections.Length; i++)
            PcrSupport.WritePcrSelection(ref f.Response, selections[i].Hash, selections[i].SizeofSelect, returned[i]);
        f.Response.WriteUInt32((uint)digests.Count);
        foreach (var d in digests) f.Response.WriteSized16(d);
        return TpmRc.Success;
    }
}
