using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>Helpers shared by the hash and sequence commands (Part 3 §15.4, §17).</summary>
public static class HashSupport
{
    /// <summary>MAX_DIGEST_BUFFER: the size of TPM2B_MAX_BUFFER (Part 2 §10.4.8).</summary>
    public const int MaxBuffer = 1024;

    /// <summary>TPMI_RH_HIERARCHY+ (owner, endorsement, platform, null): anything else TPM_RC_VALUE.</summary>
    public static bool IsHierarchyOrNull(uint h) =>
        h is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Null;

    /// <summary>
    /// Writes a TPMT_TK_HASHCHECK: an HMAC ticket for <paramref name="hierarchy"/>, or the NULL ticket
    /// (TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest) when the hierarchy is TPM_RH_NULL or the data
    /// started with TPM_GENERATED_VALUE (Part 3 §15.4.1, §17.5.1).
    /// </summary>
    public static void WriteHashCheck(Tpm2Engine tpm, ref TpmWriter w, uint hierarchy, scoped ReadOnlySpan<byte> digest, bool ticketSafe)
    {
        w.WriteUInt16((ushort)TpmSt.Hashcheck);
        if (hierarchy == (uint)TpmRh.Null || !ticketSafe)
        {
            w.WriteUInt32((uint)TpmRh.Null);
            w.WriteUInt16(0);
            return;
        }
        w.WriteUInt32(hierarchy);
        Span<byte> hmac = stackalloc byte[TpmHash.MaxDigestSize];
        int n = Tickets.HashCheck(tpm.Hmacs, tpm.Hierarchy.GetProof(hierarchy), digest, hmac);
        w.WriteSized16(hmac[..n]);
    }
}
