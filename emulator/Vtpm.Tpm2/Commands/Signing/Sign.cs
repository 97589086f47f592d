using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Signing;

/// <summary>
/// TPM 2.0 Part 3 §20.2 TPM2_Sign: signs a digest with a loaded signing key — RSASSA-PKCS1-v1_5, RSASSA-PSS (salt of
/// the digest's size), ECDSA (r and s at the curve's size) or HMAC. A restricted key signs only a digest the TPM
/// hashed itself, proven by a hash-check ticket. Response codes: TPM_RC_KEY (not a signing key, or a public key
/// without its private part, handle 1),
/// TPM_RC_SIZE (digest not of the scheme's hash size, parameter 1), TPM_RC_SCHEME (parameter 2), TPM_RC_TICKET
/// (restricted key without a valid ticket, parameter 3).
/// </summary>
public static class Sign
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SignIn input, ref SignOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || !key.Has(TpmaObject.Sign) || key.IsPublicOnly) return TpmRc.Key.ForHandle(1);
        var rc = SigningScheme.Resolve(key, input.InScheme, out var scheme, out var hash);
        if (rc.IsError) return rc.ForParameter(2);
        var digest = input.Digest.Span;
        if (digest.Length != TpmHash.DigestSize(hash)) return TpmRc.Size.ForParameter(1);
        if (key.Has(TpmaObject.Restricted) && !TicketVouchesFor(tpm, input.Validation, digest)) return TpmRc.Ticket.ForParameter(3);

        Signer.Sign(key, scheme, hash, digest, ref output.Signature);
        return TpmRc.Success;
    }

    /// <summary>Part 2 §10.7.5: a TPM_ST_HASHCHECK ticket of a hierarchy other than NULL whose HMAC is the TPM's over this digest.</summary>
    static bool TicketVouchesFor(Tpm2Engine tpm, in TpmtTkHashcheck ticket, ReadOnlySpan<byte> digest)
    {
        if (ticket.Tag != TpmSt.Hashcheck || ticket.Hierarchy == (uint)TpmRh.Null) return false;
        Span<byte> expected = stackalloc byte[TpmHash.MaxDigestSize];
        int n = Tickets.HashCheck(tpm.Hmacs, tpm.Hierarchy.GetProof(ticket.Hierarchy), digest, expected);
        return CryptographicOperations.FixedTimeEquals(expected[..n], ticket.Digest.Span);
    }
}
