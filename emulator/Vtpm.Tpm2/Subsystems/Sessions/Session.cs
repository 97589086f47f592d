using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// One authorization session (Part 1 §19.6 HMAC sessions, §19.7 policy sessions): what
/// TPM2_StartAuthSession fixed (type, hash, symmetric, sessionKey, bind) and what changes with use
/// (nonceTPM, policy state). Lives in the session table while loaded; its contents travel in the
/// contextBlob of TPM2_ContextSave while saved.
/// </summary>
public sealed class Session
{
    public uint Handle { get; set; }
    public TpmSe SessionType { get; init; }
    public TpmAlgId AuthHash { get; init; }

    /// <summary>
    /// TPMT_SYM_DEF of StartAuthSession (Part 2 §11.1.6): TPM_ALG_NULL, TPM_ALG_XOR or TPM_ALG_AES (CFB), held as
    /// algorithm, keyBits and mode (XOR's hash in keyBits; TPM_ALG_NULL the mode of XOR and NULL), as the state keeps it.
    /// </summary>
    public TpmAlgId SymmetricAlg { get; init; }
    public ushort SymmetricKeyBits { get; init; }
    public TpmAlgId SymmetricMode { get; init; }

    /// <summary>keyBits as <see cref="SymmetricKeyBits"/> holds it: AES's key size, XOR's hash, 0 for NULL.</summary>
    public static ushort KeyBitsOf(in TpmtSymDef symmetric) => symmetric.Algorithm switch
    {
        TpmAlgId.Aes => symmetric.KeyBits.Aes,
        TpmAlgId.Xor => (ushort)symmetric.KeyBits.Xor,
        _ => 0,
    };

    /// <summary>mode as <see cref="SymmetricMode"/> holds it: AES's mode, TPM_ALG_NULL otherwise.</summary>
    public static TpmAlgId ModeOf(in TpmtSymDef symmetric) => symmetric.Algorithm == TpmAlgId.Aes ? symmetric.Mode.Aes : TpmAlgId.Null;

    /// <summary>Part 1 §19.6.8: empty for an unbound, unsalted session.</summary>
    public byte[] SessionKey { get; init; } = [];

    /// <summary>The TPM's current nonce (digest size of <see cref="AuthHash"/>), replaced after each use.</summary>
    public byte[] NonceTpm { get; set; } = [];

    /// <summary>
    /// Identifies the bind entity and the authValue it had at StartAuthSession (a digest of its Name and
    /// authValue); empty if unbound. The session counts as bound to an entity only while both match
    /// (Part 1 §19.6.9: a changed authValue ends the binding).
    /// </summary>
    public byte[] BoundEntity { get; init; } = [];

    /// <summary>Policy sessions: the running policyDigest (Part 1 §19.7.2).</summary>
    public byte[] PolicyDigest { get; set; } = [];

    /// <summary>Set by TPM2_PolicyAuthValue: the HMAC includes the entity's authValue.</summary>
    public bool IsAuthValueNeeded { get; set; }

    /// <summary>Set by TPM2_PolicyPassword: the hmac field carries the authValue in the clear.</summary>
    public bool IsPasswordNeeded { get; set; }

    /// <summary>
    /// Session audit (Part 1 "Session Audit"; read by TPM2_GetSessionAuditDigest, Part 3 §18.5): the audit digest, extended with H(digest || cpHash || rpHash) for
    /// every command the session audits; empty until the session first audits a command.
    /// </summary>
    public byte[] AuditDigest { get; set; } = [];

    public bool IsPolicy => SessionType is TpmSe.Policy or TpmSe.Trial;
    public bool IsTrial => SessionType == TpmSe.Trial;

    /// <summary>Part 3 §11.2 TPM2_PolicyRestart: the policy state StartAuthSession left (zero digest, no flags).</summary>
    public void ResetPolicy()
    {
        PolicyDigest = new byte[TpmHash.DigestSize(AuthHash)];
        IsAuthValueNeeded = false;
        IsPasswordNeeded = false;
    }

    /// <summary>The digest that records a bind entity: H(Name || authValue) with trailing zeros of authValue removed.</summary>
    public static byte[] ComputeBoundEntity(TpmAlgId hashAlg, ReadOnlySpan<byte> name, ReadOnlySpan<byte> authValue)
    {
        var data = new byte[name.Length + authValue.Length];
        name.CopyTo(data);
        authValue.CopyTo(data.AsSpan(name.Length));
        return TpmHash.Hash(hashAlg, data);
    }

    /// <summary>The same into <paramref name="destination"/> without allocating (checked on every use of a bound session); returns the digest size.</summary>
    public static int ComputeBoundEntity(TpmAlgId hashAlg, ReadOnlySpan<byte> name, ReadOnlySpan<byte> authValue, Span<byte> destination)
    {
        int length = name.Length + authValue.Length;
        Span<byte> data = length <= 256 ? stackalloc byte[256] : new byte[length];
        name.CopyTo(data);
        authValue.CopyTo(data[name.Length..]);
        int n = TpmHash.Hash(hashAlg, data[..length], destination);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(data[..length]);
        return n;
    }

    public void Write(StateWriter w)
    {
        w.U32(Handle);
        w.U8((byte)SessionType);
        w.U16((ushort)AuthHash);
        w.U16((ushort)SymmetricAlg);
        w.U16(SymmetricKeyBits);
        w.U16((ushort)SymmetricMode);
        w.Bytes(SessionKey);
        w.Bytes(NonceTpm);
        w.Bytes(BoundEntity);
        w.Bytes(PolicyDigest);
        w.Bool(IsAuthValueNeeded);
        w.Bool(IsPasswordNeeded);
        w.Bytes(AuditDigest);
    }

    public static Session Read(StateReader r)
    {
        uint handle = r.U32();
        var type = (TpmSe)r.U8();
        var hash = (TpmAlgId)r.U16();
        if (type is not (TpmSe.Hmac or TpmSe.Policy or TpmSe.Trial)) throw new StateFormatException($"bad session type {type}");
        if (!TpmHash.IsImplemented(hash)) throw new StateFormatException($"bad session hash {hash}");
        var s = new Session
        {
            Handle = handle,
            SessionType = type,
            AuthHash = hash,
            SymmetricAlg = (TpmAlgId)r.U16(),
            SymmetricKeyBits = r.U16(),
            SymmetricMode = (TpmAlgId)r.U16(),
            SessionKey = r.Bytes(TpmHash.MaxDigestSize),
            NonceTpm = r.Bytes(TpmHash.MaxDigestSize),
            BoundEntity = r.Bytes(TpmHash.MaxDigestSize),
            PolicyDigest = r.Bytes(TpmHash.MaxDigestSize),
            IsAuthValueNeeded = r.Bool(),
            IsPasswordNeeded = r.Bool(),
            AuditDigest = r.Bytes(TpmHash.MaxDigestSize),
        };
        // What StartAuthSession accepts: the generated TPMT_SYM_DEF checks (Part 2 §11.1.6: TPMI_AES_KEY_BITS, XOR's
        // TPMI_ALG_HASH), and CFB for AES (Part 1 §21.3).
        bool symmetricOk = s.SymmetricAlg switch
        {
            TpmAlgId.Null => true,
            TpmAlgId.Xor => TpmiAlgHash.Check((TpmAlgId)s.SymmetricKeyBits).IsSuccess,
            TpmAlgId.Aes => TpmiAesKeyBits.Check(s.SymmetricKeyBits).IsSuccess && s.SymmetricMode == TpmAlgId.Cfb,
            _ => false,
        };
        if (!symmetricOk) throw new StateFormatException($"bad session symmetric {s.SymmetricAlg}/{s.SymmetricKeyBits}/{s.SymmetricMode}");
        if (s.NonceTpm.Length < 16 || s.NonceTpm.Length > TpmHash.DigestSize(hash)) throw new StateFormatException("session nonce of the wrong size");
        return s;
    }
}
