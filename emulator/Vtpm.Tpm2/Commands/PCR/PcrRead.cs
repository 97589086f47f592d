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

    /// <summary>Parses pcrSelectionIn into caller storage (HASH_COUNT entries); <paramref name="count"/> are filled.</summary>
    public static TpmRc Parse(ref CommandFrame f, scoped Span<TpmsPcrSelection> pcrSelectionIn, out int count) =>
        f.ReadList<TpmsPcrSelection>(PcrSupport.ReadPcrSelectionList, pcrSelectionIn, out count);

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        Span<TpmsPcrSelection> storage = stackalloc TpmsPcrSelection[PcrSupport.HashCount];
        var rc = Parse(ref f, storage, out int count);
        if (rc.IsError) return rc;
        ReadOnlySpan<TpmsPcrSelection> selections = storage[..count];
        // First pass: which PCRs are returned (at most MaxDigests, in selection order).
        Span<uint> returned = stackalloc uint[PcrSupport.HashCount];
        int digests = 0;
        for (int i = 0; i < selections.Length; i++)
        {
            returned[i] = 0;
            uint wanted = selections[i].PcrSelect & tpm.Pcr.ActiveMask(selections[i].Hash);
            for (int p = 0; p < PcrSubsystem.PcrCount && digests < MaxDigests; p++)
            {
                if ((wanted & (1u << p)) == 0) continue;
                returned[i] |= 1u << p;
                digests++;
            }
        }
        f.Response.WriteUInt32(tpm.Pcr.UpdateCounter);
        f.Response.WriteUInt32((uint)selections.Length);
        for (int i = 0; i < selections.Length; i++)
            PcrSupport.WritePcrSelection(ref f.Response, selections[i].Hash, selections[i].SizeofSelect, returned[i]);
        f.Response.WriteUInt32((uint)digests);
        for (int i = 0; i < selections.Length; i++)
        {
            for (int p = 0; p < PcrSubsystem.PcrCount; p++)
            {
                if ((returned[i] & (1u << p)) != 0) f.Response.WriteSized16(tpm.Pcr.Read(selections[i].Hash, p));
            }
        }
        return TpmRc.Success;
    }
}
