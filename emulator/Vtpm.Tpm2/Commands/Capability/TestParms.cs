using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Capability;

/// <summary>
/// TPM 2.0 Part 3 §30.3 TPM2_TestParms: succeeds if the TPMT_PUBLIC_PARMS could be used by this TPM.
/// Implemented: TPM_ALG_KEYEDHASH (schemes HMAC, XOR with KDF1_SP800_108, NULL) and TPM_ALG_SYMCIPHER
/// (AES-128/192/256, mode CFB or NULL). Response codes (all parameter 1, as the unmarshalling of the
/// TPMI types reports them): TPM_RC_TYPE (public type not implemented, e.g. RSA or ECC), TPM_RC_VALUE
/// (keyed-hash scheme, AES key size), TPM_RC_HASH, TPM_RC_KDF, TPM_RC_SYMMETRIC, TPM_RC_MODE,
/// TPM_RC_INSUFFICIENT.
/// </summary>
public static class TestParms
{
    public readonly record struct In(TpmAlgId Type);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadStructure<TpmAlgId>(ReadPublicParms, out var type);
        input = new In(type);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out _);
        return rc;
    }

    /// <summary>TPMT_PUBLIC_PARMS (Part 2 §12.2.3.8) restricted to what is implemented.</summary>
    static TpmRc ReadPublicParms(ref TpmReader r, out TpmAlgId type)
    {
        int start = r.Position;
        var rc = ReadPublicParmsCore(ref r, out type);
        if (rc.IsError) r.Rewind(start);
        return rc;
    }

    static TpmRc ReadPublicParmsCore(ref TpmReader r, out TpmAlgId type)
    {
        type = TpmAlgId.Null;
        if (!r.TryReadUInt16(out ushort t)) return TpmRc.Insufficient;
        type = (TpmAlgId)t;
        switch (type)
        {
            case TpmAlgId.Keyedhash:
                {
                    // TPMT_KEYEDHASH_SCHEME: TPMI_ALG_KEYEDHASH_SCHEME+ (HMAC, XOR, NULL; else TPM_RC_VALUE).
                    if (!r.TryReadUInt16(out ushort scheme)) return TpmRc.Insufficient;
                    switch ((TpmAlgId)scheme)
                    {
                        case TpmAlgId.Null:
                            return TpmRc.Success;
                        case TpmAlgId.Hmac:
                            if (!r.TryReadUInt16(out ushort hmacHash)) return TpmRc.Insufficient;
                            return TpmHash.IsImplemented((TpmAlgId)hmacHash) ? TpmRc.Success : TpmRc.Hash;
                        case TpmAlgId.Xor:
                            if (!r.TryReadUInt16(out ushort xorHash)) return TpmRc.Insufficient;
                            if (xorHash != (ushort)TpmAlgId.Null && !TpmHash.IsImplemented((TpmAlgId)xorHash)) return TpmRc.Hash;
                            if (!r.TryReadUInt16(out ushort kdf)) return TpmRc.Insufficient;
                            return kdf is (ushort)TpmAlgId.Kdf1Sp800108 or (ushort)TpmAlgId.Null ? TpmRc.Success : TpmRc.Kdf;
                        default:
                            return TpmRc.Value;
                    }
                }
            case TpmAlgId.Symcipher:
                {
                    // TPMT_SYM_DEF_OBJECT: TPMI_ALG_SYM_OBJECT (AES), TPMI_AES_KEY_BITS, TPMI_ALG_SYM_MODE+.
                    if (!r.TryReadUInt16(out ushort alg)) return TpmRc.Insufficient;
                    if (alg != (ushort)TpmAlgId.Aes) return TpmRc.Symmetric;
                    if (!r.TryReadUInt16(out ushort keyBits)) return TpmRc.Insufficient;
                    if (keyBits is not (128 or 192 or 256)) return TpmRc.Value;
                    if (!r.TryReadUInt16(out ushort mode)) return TpmRc.Insufficient;
                    return mode is (ushort)TpmAlgId.Cfb or (ushort)TpmAlgId.Null ? TpmRc.Success : TpmRc.Mode;
                }
            default:
                return TpmRc.Type;
        }
    }
}
