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
/// Response codes: TPM_RC_SIZE (nonceCaller, parameter 1), TPM_RC_VALUE (encryptedSalt without tpmKey,
/// parameter 2; sessionType, parameter 3; AES key size, parameter 4), TPM_RC_SYMMETRIC / TPM_RC_MODE
/// (symmetric, parameter 4), TPM_RC_HASH (authHash, parameter 5, or XOR's hash, parameter 4),
/// TPM_RC_SESSION_MEMORY, TPM_RC_SESSION_HANDLES.
/// </summary>
public static class StartAuthSession
{
    /// <summary>TPMT_SYM_DEF (Part 2 §11.1.6) as StartAuthSession accepts it.</summary>
    public readonly record struct TpmtSymDef(TpmAlgId Algorithm, ushort KeyBits, TpmAlgId Mode);

    public readonly ref struct In(uint tpmKey, uint bind, ReadOnlySpan<byte> nonceCaller, ReadOnlySpan<byte> encryptedSalt, TpmSe sessionType, TpmtSymDef symmetric, TpmAlgId authHash)
    {
        public uint TpmKey { get; } = tpmKey;
        public uint Bind { get; } = bind;
        public ReadOnlySpan<byte> NonceCaller { get; } = nonceCaller;
        public ReadOnlySpan<byte> EncryptedSalt { get; } = encryptedSalt;
        public TpmSe SessionType { get; } = sessionType;
        public TpmtSymDef Symmetric { get; } = symmetric;
        public TpmAlgId AuthHash { get; } = authHash;
    }

    /// <summary>TPMT_SYM_DEF+: TPM_ALG_NULL, TPM_ALG_XOR with its hash, or AES-128/256 with a mode.</summary>
    public static TpmRc ParseSymDef(ref TpmReader r, out TpmtSymDef value)
    {
        value = default;
        int start = r.Position;
        if (!r.TryReadUInt16(out ushort alg)) return TpmRc.Insufficient;
        switch ((TpmAlgId)alg)
        {
            case TpmAlgId.Null:
                value = new TpmtSymDef(TpmAlgId.Null, 0, TpmAlgId.Null);
                return TpmRc.Success;
            case TpmAlgId.Xor:
                if (!r.TryReadUInt16(out ushort hash)) { r.Rewind(start); return TpmRc.Insufficient; }
                if (!TpmHash.IsImplemented((TpmAlgId)hash)) { r.Rewind(start); return TpmRc.Hash; }
                value = new TpmtSymDef(TpmAlgId.Xor, hash, TpmAlgId.Null);
                return TpmRc.Success;
            case TpmAlgId.Aes:
                if (!r.TryReadUInt16(out ushort bits) || !r.TryReadUInt16(out ushort mode)) { r.Rewind(start); return TpmRc.Insufficient; }
                if (bits is not (128 or 256)) { r.Rewind(start); return TpmRc.Value; }
                if ((TpmAlgId)mode is not (TpmAlgId.Cfb or TpmAlgId.Ctr or TpmAlgId.Ofb or TpmAlgId.Cbc or TpmAlgId.Ecb)) { r.Rewind(start); return TpmRc.Mode; }
                value = new TpmtSymDef(TpmAlgId.Aes, bits, (TpmAlgId)mode);
                return TpmRc.Success;
            default:
                r.Rewind(start);
                return TpmRc.Symmetric;
        }
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var nonceCaller, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        // TPM2B_ENCRYPTED_SECRET: up to the size of an RSA-2048 encryption or an ECC point.
        rc = f.ReadSized16(out var encryptedSalt, 256);
        if (rc.IsError) return rc;
        rc = f.ReadUInt8(out byte sessionType);
        if (rc.IsError) return rc;
        if ((TpmSe)sessionType is not (TpmSe.Hmac or TpmSe.Policy or TpmSe.Trial)) return TpmRc.Value.ForParameter(3);
        rc = f.ReadStructure<TpmtSymDef>(ParseSymDef, out var symmetric);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort authHash);
        if (rc.IsError) return rc;
        if (!TpmHash.IsImplemented((TpmAlgId)authHash)) return TpmRc.Hash.ForParameter(5);
        input = new In(f.Handles[0], f.Handles[1], nonceCaller, encryptedSalt, (TpmSe)sessionType, symmetric, (TpmAlgId)authHash);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (input.NonceCaller.Length < 16 || input.NonceCaller.Length > TpmHash.DigestSize(input.AuthHash))
            return TpmRc.Size.ForParameter(1);
        // Salted sessions come with loaded keys; until then every tpmKey that reaches here is TPM_RH_NULL.
        if (input.TpmKey != (uint)TpmRh.Null) return TpmRc.Handle.ForHandle(1);
        if (input.EncryptedSalt.Length != 0) return TpmRc.Value.ForParameter(2);
        // Parameter encryption uses AES in CFB mode only (Part 1 §21.3).
        if (input.Symmetric.Algorithm == TpmAlgId.Aes && input.Symmetric.Mode != TpmAlgId.Cfb) return TpmRc.Mode.ForParameter(4);

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
        rc = tpm.Sessions.Create(input.SessionType, input.AuthHash, input.Symmetric.Algorithm, input.Symmetric.KeyBits, input.Symmetric.Mode,
            input.NonceCaller, bindAuth, boundEntity, bound, out var session);
        if (rc.IsError) return rc;
        f.ResponseHandle = session.Handle;
        f.Response.WriteSized16(session.NonceTpm);
        return TpmRc.Success;
    }
}
