using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>Helpers shared by the hash and sequence commands (Part 3 §15.4, §17).</summary>
public static class HashSupport
{
    /// <summary>
    /// Fills a TPMT_TK_HASHCHECK: an HMAC ticket for <paramref name="hierarchy"/>, or the NULL ticket
    /// (TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest) when the hierarchy is TPM_RH_NULL or the data
    /// started with TPM_GENERATED_VALUE (Part 3 §15.4.1, §17.5.1).
    /// </summary>
    public static void FillHashCheck(Tpm2Engine tpm, ref TpmtTkHashcheck ticket, uint hierarchy, scoped ReadOnlySpan<byte> digest, bool ticketSafe)
    {
        ticket.Tag = TpmSt.Hashcheck;
        if (hierarchy == (uint)TpmRh.Null || !ticketSafe)
        {
            ticket.Hierarchy = (uint)TpmRh.Null;
            ticket.Digest.Size = 0;
            return;
        }
        ticket.Hierarchy = hierarchy;
        ticket.Digest.Size = (ushort)Tickets.HashCheck(tpm.Hmacs, tpm.Hierarchy.GetProof(hierarchy), digest, ticket.Digest.Buffer);
    }
}
