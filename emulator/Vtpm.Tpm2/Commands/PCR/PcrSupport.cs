using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>One TPMS_PCR_SELECTION (Part 2 §10.6.2): a bank and a bit map of PCRs.</summary>
public readonly record struct TpmsPcrSelection(TpmAlgId Hash, byte SizeofSelect, uint PcrSelect);

/// <summary>One TPMT_HA (Part 2 §10.3.2) of a TPML_DIGEST_VALUES.</summary>
public readonly record struct TpmtHa(TpmAlgId HashAlg, byte[] Digest);

/// <summary>Marshalling shared by the PCR, hash and capability commands (the reference's PCR _spt helpers).</summary>
public static class PcrSupport
{
    /// <summary>HASH_COUNT: the most entries a TPML_PCR_SELECTION or TPML_DIGEST_VALUES may carry.</summary>
    public const int HashCount = 4;

    /// <summary>PCR_SELECT_MIN / PCR_SELECT_MAX (Part 2 §10.6.1): 3 octets for 24 PCRs.</summary>
    public const int PcrSelectMin = 3;
    public const int PcrSelectMax = PcrSubsystem.SelectSize;

    /// <summary>
    /// TPML_PCR_SELECTION (Part 2 §10.9.7): count ≤ HASH_COUNT (TPM_RC_SIZE), each hash an implemented
    /// TPMI_ALG_HASH (TPM_RC_HASH), sizeofSelect in [PCR_SELECT_MIN, PCR_SELECT_MAX] (TPM_RC_VALUE).
    /// </summary>
    public static TpmRc ReadPcrSelectionList(ref TpmReader r, out TpmsPcrSelection[] list)
    {
        list = [];
        int start = r.Position;
        if (!r.TryReadUInt32(out uint count)) return TpmRc.Insufficient;
        if (count > HashCount) { r.Rewind(start); return TpmRc.Size; }
        var result = new TpmsPcrSelection[count];
        for (int i = 0; i < count; i++)
        {
            if (!r.TryReadUInt16(out ushort hash)) { r.Rewind(start); return TpmRc.Insufficient; }
            if (!TpmHash.IsImplemented((TpmAlgId)hash)) { r.Rewind(start); return TpmRc.Hash; }
            if (!r.TryReadUInt8(out byte size)) { r.Rewind(start); return TpmRc.Insufficient; }
            if (size < PcrSelectMin || size > PcrSelectMax) { r.Rewind(start); return TpmRc.Value; }
            if (!r.TryReadBytes(size, out var bits)) { r.Rewind(start); return TpmRc.Insufficient; }
            uint mask = 0;
            for (int b = 0; b < size; b++) mask |= (uint)bits[b] << (8 * b);
            result[i] = new TpmsPcrSelection((TpmAlgId)hash, size, mask);
        }
        list = result;
        return TpmRc.Success;
    }

    public static void WritePcrSelection(ref TpmWriter w, TpmAlgId hash, byte sizeofSelect, uint mask)
    {
        w.WriteUInt16((ushort)hash);
        w.WriteUInt8(sizeofSelect);
        for (int b = 0; b < sizeofSelect; b++) w.WriteUInt8((byte)(mask >> (8 * b)));
    }

    /// <summary>
    /// TPML_DIGEST_VALUES (Part 2 §10.9.8): count ≤ HASH_COUNT (TPM_RC_SIZE); each TPMT_HA has an
    /// implemented hashAlg (TPM_RC_HASH; TPM_ALG_NULL is not allowed here) and that algorithm's digest.
    /// </summary>
    public static TpmRc ReadDigestValues(ref TpmReader r, out TpmtHa[] list)
    {
        list = [];
        int start = r.Position;
        if (!r.TryReadUInt32(out uint count)) return TpmRc.Insufficient;
        if (count > HashCount) { r.Rewind(start); return TpmRc.Size; }
        var result = new TpmtHa[count];
        for (int i = 0; i < count; i++)
        {
            if (!r.TryReadUInt16(out ushort alg)) { r.Rewind(start); return TpmRc.Insufficient; }
            int size = TpmHash.DigestSize((TpmAlgId)alg);
            if (size == 0) { r.Rewind(start); return TpmRc.Hash; }
            if (!r.TryReadBytes(size, out var digest)) { r.Rewind(start); return TpmRc.Insufficient; }
            result[i] = new TpmtHa((TpmAlgId)alg, digest.ToArray());
        }
        list = result;
        return TpmRc.Success;
    }

    public static void WriteDigestValues(ref TpmWriter w, IReadOnlyList<TpmtHa> digests)
    {
        w.WriteUInt32((uint)digests.Count);
        foreach (var d in digests)
        {
            w.WriteUInt16((ushort)d.HashAlg);
            w.WriteBytes(d.Digest);
        }
    }

    /// <summary>
    /// Hashes event data with every bank in which <paramref name="pcr"/> is allocated (or, for
    /// TPM_RH_NULL, every bank with any allocated PCR), as TPM2_PCR_Event and EventSequenceComplete return.
    /// </summary>
    public static List<TpmAlgId> EventBanks(PcrSubsystem pcrs, uint pcr)
    {
        var banks = new List<TpmAlgId>();
        foreach (var alg in PcrSubsystem.Banks)
        {
            uint mask = pcrs.ActiveMask(alg);
            bool use = pcr < PcrSubsystem.PcrCount ? (mask & (1u << (int)pcr)) != 0 : mask != 0;
            if (use) banks.Add(alg);
        }
        return banks;
    }

    /// <summary>Extends each digest into its bank (inactive banks are skipped) and counts the change once.</summary>
    public static void ExtendAll(PcrSubsystem pcrs, uint pcr, IReadOnlyList<TpmtHa> digests)
    {
        if (pcr >= PcrSubsystem.PcrCount) return;
        bool changed = false;
        foreach (var d in digests) changed |= pcrs.Extend((int)pcr, d.HashAlg, d.Digest);
        if (changed) pcrs.Changed((int)pcr);
    }
}
