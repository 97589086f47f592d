using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// The algorithms this TPM implements, with their TPMA_ALGORITHM (TPM_CAP_ALGS, TPM2_TestParms): the
/// hashes, HMAC and KDFa for sessions and tickets, AES (the DRBG, context protection) with CFB and XOR
/// for parameter encryption, and the KEYEDHASH and SYMCIPHER object types. Not listed yet: RSA, ECC and their
/// schemes, which the object commands already use — TPM_CAP_ALGS and TPM2_TestParms still answer as before them.
/// </summary>
public static class ImplementedAlgorithms
{
    public static readonly (TpmAlgId Alg, TpmaAlgorithm Attributes)[] All =
    [
        (TpmAlgId.Sha1, TpmaAlgorithm.Hash),
        (TpmAlgId.Hmac, TpmaAlgorithm.Hash | TpmaAlgorithm.Signing),
        (TpmAlgId.Aes, TpmaAlgorithm.Symmetric),
        (TpmAlgId.Keyedhash, TpmaAlgorithm.Hash | TpmaAlgorithm.Object | TpmaAlgorithm.Signing | TpmaAlgorithm.Encrypting),
        (TpmAlgId.Xor, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Hash),
        (TpmAlgId.Sha256, TpmaAlgorithm.Hash),
        (TpmAlgId.Sha384, TpmaAlgorithm.Hash),
        (TpmAlgId.Sha512, TpmaAlgorithm.Hash),
        (TpmAlgId.Kdf1Sp800108, TpmaAlgorithm.Hash | TpmaAlgorithm.Method),
        (TpmAlgId.Symcipher, TpmaAlgorithm.Object),
        (TpmAlgId.Cfb, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Encrypting),
    ];

    public static bool IsImplemented(TpmAlgId alg)
    {
        foreach (var (a, _) in All) if (a == alg) return true;
        return false;
    }
}
