using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// Creation data and tickets (Part 2 §15.1 TPMS_CREATION_DATA, §10.7.3 TPMT_TK_CREATION): what TPM2_CertifyCreation
/// later vouches for — the PCRs selected at creation and their digest, the locality, the parent — and the ticket
/// binding that description to the object's Name.
/// </summary>
public static class Creation
{
    public static void Describe(Tpm2Engine tpm, byte locality, TpmAlgId nameAlg, in TpmlPcrSelection creationPcr, TpmAlgId parentNameAlg,
        ReadOnlySpan<byte> parentName, ReadOnlySpan<byte> parentQualifiedName, in Tpm2bData outsideInfo,
        ref TpmsCreationData data, ref Tpm2bDigest creationHash)
    {
        data.PcrDigest = Tpm2bDigest.From(PcrSelectionDigest.Compute(tpm, creationPcr, nameAlg, ref data.PcrSelect));
        data.Locality = locality <= 4 ? (TpmaLocality)(1 << locality) : (TpmaLocality)locality;
        data.ParentNameAlg = parentNameAlg;
        data.ParentName = Tpm2bName.From(parentName);
        data.ParentQualifiedName = Tpm2bName.From(parentQualifiedName);
        data.OutsideInfo = outsideInfo;

        var buffer = new byte[TpmsCreationData.MaxSize];
        var w = new TpmWriter(buffer);
        data.Marshal(ref w);
        creationHash = Tpm2bDigest.From(TpmHash.Hash(nameAlg, w.Written));
    }

    /// <summary>
    /// TPMT_TK_CREATION: HMAC(proof(hierarchy), TPM_ST_CREATION || name || creationHash); the NULL ticket (hierarchy
    /// TPM_RH_NULL, empty digest) for the null hierarchy, whose objects cannot be certified later.
    /// </summary>
    public static TpmtTkCreation Ticket(Tpm2Engine tpm, uint hierarchy, ReadOnlySpan<byte> name, ReadOnlySpan<byte> creationHash)
    {
        var ticket = new TpmtTkCreation { Tag = TpmSt.Creation, Hierarchy = hierarchy };
        if (hierarchy == (uint)TpmRh.Null) return ticket;
        Span<byte> hmac = stackalloc byte[TpmHash.MaxDigestSize];
        int n = Tickets.Compute(tpm.Hmacs, tpm.Hierarchy.GetProof(hierarchy), TpmSt.Creation, name, creationHash, hmac);
        ticket.Digest = Tpm2bDigest.From(hmac[..n]);
        return ticket;
    }
}
