using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// What the PCR, hash and capability commands share on top of the generated structures (the reference's PCR
/// _spt helpers): PCR bit maps of a TPMS_PCR_SELECTION as masks, the digest of a TPMT_HA, and the event digests
/// of TPM2_PCR_Event / TPM2_EventSequenceComplete. Checking selections and digest lists is the generated
/// unmarshal's (TPMI_ALG_HASH: TPM_RC_HASH; sizeofSelect: TPM_RC_VALUE; count over HASH_COUNT: TPM_RC_SIZE).
/// </summary>
public static class PcrSupport
{
    /// <summary>The PCRs a TPMS_PCR_SELECTION selects (Part 2 §10.6.2: bit n of octet n/8 is PCR n).</summary>
    public static uint Mask(in TpmsPcrSelection selection)
    {
        uint mask = 0;
        int n = Math.Min((int)selection.SizeofSelect, PcrSubsystem.SelectSize);
        for (int b = 0; b < n; b++) mask |= (uint)selection.PcrSelect[b] << (8 * b);
        return mask;
    }

    /// <summary>Replaces the bit map of <paramref name="selection"/> (its sizeofSelect octets) by <paramref name="mask"/>.</summary>
    public static void SetMask(ref TpmsPcrSelection selection, uint mask)
    {
        int n = Math.Min((int)selection.SizeofSelect, PcrSubsystem.SelectSize);
        for (int b = 0; b < n; b++) selection.PcrSelect[b] = (byte)(mask >> (8 * b));
    }

    /// <summary>
    /// Writes a TPMS_PCR_SELECTION of <paramref name="bank"/> with the PCRs of <paramref name="mask"/>
    /// (TPM2_GetCapability(TPM_CAP_PCRS)).
    /// </summary>
    public static void WritePcrSelection(ref TpmWriter w, TpmAlgId bank, byte sizeofSelect, uint mask)
    {
        var selection = new TpmsPcrSelection { Hash = bank, SizeofSelect = sizeofSelect };
        SetMask(ref selection, mask);
        selection.Marshal(ref w);
    }

    /// <summary>The digest a TPMT_HA carries: the TPMU_HA arm its hashAlg selects (Part 2 §10.3.2).</summary>
    public static ReadOnlySpan<byte> DigestOf(in TpmtHa ha) => ha.HashAlg switch
    {
        TpmAlgId.Sha1 => ha.Digest.Sha1,
        TpmAlgId.Sha256 => ha.Digest.Sha256,
        TpmAlgId.Sha384 => ha.Digest.Sha384,
        TpmAlgId.Sha512 => ha.Digest.Sha512,
        _ => default,
    };

    /// <summary>The TPMU_HA arm of <paramref name="hashAlg"/> in <paramref name="ha"/>, which takes that algorithm.</summary>
    static Span<byte> SetDigest(ref TpmtHa ha, TpmAlgId hashAlg)
    {
        ha.HashAlg = hashAlg;
        return hashAlg switch
        {
            TpmAlgId.Sha1 => ha.Digest.Sha1,
            TpmAlgId.Sha256 => ha.Digest.Sha256,
            TpmAlgId.Sha384 => ha.Digest.Sha384,
            TpmAlgId.Sha512 => ha.Digest.Sha512,
            _ => throw new ArgumentOutOfRangeException(nameof(hashAlg), hashAlg, "not an implemented hash"),
        };
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
    /// Fills <paramref name="list"/> with the digest of the event data for every event bank
    /// (<see cref="IsEventBank"/>), in the order of the implemented hashes; each digest comes from
    /// <paramref name="digest"/>(state, bank, destination).
    /// </summary>
    public static void FillEventDigests<TState>(PcrSubsystem pcrs, uint pcr, ref TpmlDigestValues list, TState state, DigestProducer<TState> digest)
        where TState : allows ref struct
    {
        uint count = 0;
        foreach (var bank in TpmHash.Implemented)
        {
            if (!IsEventBank(pcrs, pcr, bank)) continue;
            digest(state, bank, SetDigest(ref list.Digests[(int)count], bank));
            count++;
        }
        list.Count = count;
    }

    /// <summary>Computes the digest of one bank into <paramref name="destination"/> (exactly the bank's digest size).</summary>
    public delegate void DigestProducer<TState>(TState state, TpmAlgId bank, Span<byte> destination) where TState : allows ref struct;

    /// <summary>
    /// Extends each digest of a checked TPML_DIGEST_VALUES into its bank of <paramref name="pcr"/> (inactive
    /// banks are skipped; TPM_RH_NULL extends nothing) and counts the change once.
    /// </summary>
    public static void ExtendAll(PcrSubsystem pcrs, uint pcr, in TpmlDigestValues digests)
    {
        if (pcr >= PcrSubsystem.PcrCount) return;
        bool changed = false;
        for (int i = 0; i < (int)digests.Count; i++)
        {
            ref readonly var ha = ref digests.Digests[i];
            changed |= pcrs.Extend((int)pcr, ha.HashAlg, DigestOf(in ha));
        }
        if (changed) pcrs.Changed((int)pcr);
    }
}
