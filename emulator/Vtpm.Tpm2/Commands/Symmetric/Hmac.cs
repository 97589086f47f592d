using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Symmetric;

/// <summary>
/// TPM 2.0 Part 3 §15.5 TPM2_HMAC: the HMAC of a buffer with a loaded HMAC key. Response codes: TPM_RC_TYPE (not a
/// KEYEDHASH key, handle 1), TPM_RC_ATTRIBUTES (restricted, handle 1), TPM_RC_KEY (sign CLEAR, handle 1), TPM_RC_VALUE
/// (a hash other than the key's scheme's, or none, parameter 2).
/// </summary>
public static class Hmac
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in HmacIn input, ref HmacOut output)
    {
        if (tpm.Objects.GetKey(input.Handle) is not { } key || key.Public.Type != TpmAlgId.Keyedhash) return TpmRc.Type.ForHandle(1);
        if (key.Has(TpmaObject.Restricted)) return TpmRc.Attributes.ForHandle(1);
        if (!key.Has(TpmaObject.Sign)) return TpmRc.Key.ForHandle(1);
        ref readonly var scheme = ref key.Public.Parameters.KeyedHashDetail.Scheme;
        var hash = scheme.Scheme == TpmAlgId.Hmac ? scheme.Details.Hmac.HashAlg : TpmAlgId.Null;
        if (hash == TpmAlgId.Null) hash = input.HashAlg;
        else if (input.HashAlg != TpmAlgId.Null && input.HashAlg != hash) return TpmRc.Value.ForParameter(2);
        if (hash == TpmAlgId.Null) return TpmRc.Value.ForParameter(2);
        Span<byte> mac = stackalloc byte[TpmHash.MaxDigestSize];
        int n = TpmHash.Hmac(hash, key.Sensitive.Sensitive.Bits.Span, input.Buffer.Span, mac);
        output.OutHMAC = Tpm2bDigest.From(mac[..n]);
        return TpmRc.Success;
    }
}
