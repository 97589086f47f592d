using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Session;

/// <summary>
/// TPM 2.0 Part 3 §11.1 TPM2_StartAuthSession: starts an HMAC, policy or trial session; returns its
/// handle and the first nonceTPM. Bound sessions take their sessionKey from the bind entity's authValue
/// (Part 1 §19.6.8); salted sessions (tpmKey ≠ TPM_RH_NULL) need loaded keys, which this TPM does not
/// have yet, so the dispatcher answers TPM_RC_REFERENCE_H0 for any tpmKey but TPM_RH_NULL.
/// From the generated unmarshal: TPM_RC_SIZE (nonceCaller larger than a TPM2B_NONCE, parameter 1; encryptedSalt
/// larger than a TPM2B_ENCRYPTED_SECRET, parameter 2), TPM_RC_VALUE (sessionType, parameter 3), and for the
/// TPMT_SYM_DEF+ (parameter 4) TPM_RC_SYMMETRIC, TPM_RC_VALUE (an AES key size outside TPMI_AES_KEY_BITS),
/// TPM_RC_MODE, TPM_RC_HASH (XOR's hash); TPM_RC_HASH (authHash, parameter 5).
/// Then this command's own: TPM_RC_SIZE (nonceCaller shorter than 16 octets or longer than authHash's digest,
/// parameter 1), TPM_RC_VALUE (encryptedSalt without tpmKey, parameter 2), TPM_RC_MODE (AES in a mode other than
/// CFB, parameter 4), TPM_RC_SESSION_MEMORY, TPM_RC_SESSION_HANDLES.
/// </summary>
public static class StartAuthSession
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in StartAuthSessionIn input, ref StartAuthSessionOut output)
    {
        var nonceCaller = input.NonceCaller.Span;
        // Part 3 §11.1: nonceCaller is at least 16 octets and at most the digest size of authHash.
        if (nonceCaller.Length < 16 || nonceCaller.Length > TpmHash.DigestSize(input.AuthHash))
            return TpmRc.Size.ForParameter(1);
        // Salted sessions come with loaded keys; until then every tpmKey that reaches here is TPM_RH_NULL.
        if (input.TpmKey != (uint)TpmRh.Null) return TpmRc.Handle.ForHandle(1);
        if (input.EncryptedSalt.Size != 0) return TpmRc.Value.ForParameter(2);
        // Parameter encryption uses AES in CFB mode only (Part 1 §21.3).
        if (input.Symmetric.Algorithm == TpmAlgId.Aes && input.Symmetric.Mode.Aes != TpmAlgId.Cfb) return TpmRc.Mode.ForParameter(4);

        bool bound = input.Bind != (uint)TpmRh.Null;
        byte[] bindAuth = [];
        byte[] boundEntity = [];
        if (bound)
        {
            if (!tpm.TryGetEntity(input.Bind, out var entity)) return TpmRc.Handle.ForHandle(2);
            bindAuth = Authorization.TrimTrailingZeros(entity.AuthValue).ToArray();
            var name = entity.Name is { Length: > 0 } ? entity.Name : tpm.GetNameOfHandle(input.Bind);
            boundEntity = Subsystems.Session.ComputeBoundEntity(input.AuthHash, name, bindAuth);
        }
        var rc = tpm.Sessions.Create(input.SessionType, input.AuthHash, input.Symmetric, nonceCaller, bindAuth, boundEntity, bound, out var session);
        if (rc.IsError) return rc;
        output.SessionHandle = session.Handle;
        output.NonceTPM = Tpm2bNonce.From(session.NonceTpm);
        return TpmRc.Success;
    }
}
