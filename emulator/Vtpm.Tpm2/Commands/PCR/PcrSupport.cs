using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>One TPMS_PCR_SELECTION (Part 2 §10.6.2): a bank and a bit map of PCRs.</summary>
public readonly record struct TpmsPcrSelection(TpmAlgId Hash, byte SizeofSelect, uint PcrSelect);

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
        Span<TpmsPcrSelection> storage = stackalloc TpmsPcrSelection[HashCount];
        var rc = ReadPcrSelectionList(ref r, storage, out int count);
        list = rc.IsSuccess ? storage[..count].ToArray() : [];
        return rc;
    }

    /// <summary>TPML_PCR_SELECTION into caller storage of <see cref="HashCount"/> entries (no allocation).</summary>
    public static TpmRc ReadPcrSelectionList(ref TpmReader r, scoped Span<TpmsPcrSelection> list, out int count)
    {
        count = 0;
        int start = r.Position;
        if (!r.TryReadUInt32(out uint n)) return TpmRc.Insufficient;
        if (n > HashCount || n > list.Length) { r.Rewind(start); return TpmRc.Size; }
        for (int i = 0; i < n; i++)
        {
            if (!r.TryReadUInt16(out ushort hash)) { r.Rewind(start); return TpmRc.Insufficient; }
            if (!TpmHash.IsImplemented((TpmAlgId)hash)) { r.Rewind(start); return TpmRc.Hash; }
            if (!r.TryReadUInt8(out byte size)) { r.Rewind(start); return TpmRc.Insufficient; }
            if (size < PcrSelectMin || size > PcrSelectMax) { r.Rewind(start); return TpmRc.Value; }
            if (!r.TryReadBytes(size, out var bits)) { r.Rewind(start); return TpmRc.Insufficient; }
            uint mask = 0;
            for (int b = 0; b < size; b++) mask |= (uint)bits[b] << (8 * b);
            list[i] = new TpmsPcrSelection((TpmAlgId)hash, size, mask);
        }
        count = (int)n;
        return TpmRc.Success;
    }

    public static void WritePcrSelection(ref TpmWriter w, TpmAlgId hash, byte sizeofSelect, uint mask)
    {
        w.WriteUInt16((ushort)hash);
        w.WriteUInt8(sizeofSelect);
        for (int b = 0; b < sizeofSelect; b++) w.WriteUInt8((byte)(mask >> (8 * b)));
    }

    /// <summary>The largest TPML_DIGEST_VALUES: count and HASH_COUNT TPMT_HAs of the largest digest.</summary>
    public const int MaxDigestValuesSize = 4 + HashCount * (2 + TpmHash.MaxDigestSize);

    /// <summary>
    /// Checks a TPML_DIGEST_VALUES (Part 2 §10.9.8) in place: count ≤ HASH_COUNT (TPM_RC_SIZE); each
    /// TPMT_HA has an implemented hashAlg (TPM_RC_HASH; TPM_ALG_NULL is not allowed here) and that
    /// algorithm's digest. The list is then used in its wire form (see <see cref="ExtendAll"/>).
    /// </summary>
    public static TpmRc CheckDigestValues(ref TpmReader r)
    {
        int start = r.Position;
        if (!r.TryReadUInt32(out uint count)) return TpmRc.Insufficient;
        if (count > HashCount) { r.Rewind(start); return TpmRc.Size; }
        for (int i = 0; i < count; i++)
        {
            if (!r.TryReadUInt16(out ushort alg)) { r.Rewind(start); return TpmRc.Insufficient; }
            int size = TpmHash.DigestSize((TpmAlgId)alg);
            if (size == 0) { r.Rewind(start); return TpmRc.Hash; }
            if (!r.TryReadBytes(size, out _)) { r.Rewind(start); return TpmRc.Insufficient; }
        }
        return TpmRc.Success;
    }

    /// <summary>
    /// Whether the digest of <paramref name="bank"/> goes into TPM2_PCR_Event's and EventSequenceComplete's
    /// list: a bank in which <paramref name="pcr"/> is allocated (or, for TPM_RH_NULL, any bank with an
    /// allocated PCR).
    /// </summary>
    public static bool IsEventBank(PcrSubsystem pcrs, uint pcr, TpmAlgId bank)
    {
        uint mask = pcrs.ActiveMask(bank);
        return pcr < PcrSubsystem.PcrCount ? (mask & (1u << (int)pcr)) != 0 : mask != 0;
    }

    /// <summary>
    /// Writes the TPML_DIGEST_VALUES of event data for every event bank (<see cref="IsEventBank"/>); each
    /// digest comes from <paramref name="digest"/>(bank, destination). Returns the bytes written.
    /// </summary>
    public static int WriteEventDigests<TState>(PcrSubsystem pcrs, uint pcr, Span<byte> list, TState state, DigestProducer<TState> digest)
        where TState : allows ref struct
    {
        var w = new TpmWriter(list);
        w.WriteUInt32(0);
        uint count = 0;
        Span<byte> d = stackalloc byte[TpmHash.MaxDigestSize];
        foreach (var bank in TpmHash.Implemented)
        {
            if (!IsEventBank(pcrs, pcr, bank)) continue;
            var value = d[..TpmHash.DigestSize(bank)];
            digest(state, bank, value);
            w.WriteUInt16((ushort)bank);
            w.WriteBytes(value);
            count++;
        }
        w.PatchUInt32(0, count);
        return w.Position;
    }

    /// <summary>Computes the digest of one bank into <paramref name="destination"/> (exactly the bank's digest size).</summary>
    public delegate void DigestProducer<TState>(TState state, TpmAlgId bank, Span<byte> destination) where TState : allows ref struct;

    /// <summary>
    /// Extends each digest of a checked TPML_DIGEST_VALUES (wire form) into its bank (inactive banks are
    /// skipped) and counts the change once.
    /// </summary>
    public static void ExtendAll(PcrSubsystem pcrs, uint pcr, ReadOnlySpan<byte> digestValues)
    {
        if (pcr >= PcrSubsystem.PcrCount) return;
        var r = new TpmReader(digestValues);
        r.TryReadUInt32(out uint count);
        bool changed = false;
        for (int i = 0; i < count; i++)
        {
            r.TryReadUInt16(out ushort alg);
            r.TryReadBytes(TpmHash.DigestSize((TpmAlgId)alg), out var digest);
            changed |= pcrs.Extend((int)pcr, (TpmAlgId)alg, digest);
        }
        if (changed) pcrs.Changed((int)pcr);
    }
}
