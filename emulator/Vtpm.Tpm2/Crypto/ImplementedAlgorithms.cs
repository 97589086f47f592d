using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>TPMA_ALGORITHM (Part 2 §8.2).</summary>
[Flags]
public enum TpmaAlgorithm : uint
{
    None = 0,
    Asymmetric = 1 << 0,
    Symmetric = 1 << 1,
    Hash = 1 << 2,
    Object = 1 << 3,
    Signing = 1 << 8,
    Encrypting = 1 << 9,
    Method = 1 << 10,
}

/// <summary>
/// The algorithms this TPM implements, with their TPMA_ALGORITHM (TPM_CAP_ALGS, TPM2_TestParms): the
/// hashes, HMAC and KDFa for sessions and tickets, AES (the DRBG, context protection) with CFB and XOR
/// for parameter encryption, and the KEYEDHASH and SYMCIPHER object types. No asymmetric algorithm yet.
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
