using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// A loaded storage key as the parent of TPM2_Create and TPM2_Load (Part 1 §27.1: a restricted decryption key of
/// type RSA or ECC, whose symmetric definition and seedValue protect its children).
/// </summary>
public static class StorageParent
{
    /// <summary>The parent at <paramref name="handle"/>, or TPM_RC_TYPE (handle 1) when it is not a storage key.</summary>
    public static TpmRc Get(Tpm2Engine tpm, uint handle, out KeyObject parent)
    {
        parent = tpm.Objects.GetKey(handle)!;
        if (parent is null || parent.Public.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc)
            || !parent.Has(TpmaObject.Restricted) || !parent.Has(TpmaObject.Decrypt) || parent.Has(TpmaObject.Sign))
            return TpmRc.Type.ForHandle(1);
        return TpmRc.Success;
    }

    /// <summary>The AES key size of the parent's symmetric definition (what STORAGE keys are derived for).</summary>
    public static int SymmetricKeyBits(KeyObject parent) => parent.Public.Type == TpmAlgId.Rsa
        ? parent.Public.Parameters.RsaDetail.Symmetric.KeyBits.Aes
        : parent.Public.Parameters.EccDetail.Symmetric.KeyBits.Aes;
}
