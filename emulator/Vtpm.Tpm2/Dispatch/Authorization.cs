using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// The authorization area of a command (Part 1 §18–19, §21, Part 3 §5.4–5.6): parsing, checking each
/// session against the entity it authorizes, parameter decryption, and the response's session area
/// (parameter encryption, new nonces, response HMACs). Runs once per command, in the dispatcher.
/// </summary>
public static class Authorization
{
    /// <summary>Parses authorizationSize and the TPMS_AUTH_COMMAND entries that follow it.</summary>
    public static TpmRc ParseSessionArea(ref TpmReader r, scoped Span<AuthSession> sessions, out int count)
    {
        count = 0;
        // No room for authorizationSize at all is an unmarshalling failure, as the reference reports it.
        if (!r.TryReadUInt32(out uint authSize)) return TpmRc.Insufficient;
        // The smallest session is 9 bytes (handle, two empty TPM2Bs, attributes).
        if (authSize < 9 || authSize > r.Remaining) return TpmRc.Authsize;
        int end = r.Position + (int)authSize;
        while (r.Position < end)
        {
            if (count == sessions.Length) return TpmRc.Authsize;
            ref var s = ref sessions[count];
            int sessionNumber = count + 1;
            if (!r.TryReadUInt32(out s.Handle) || r.Position > end) return TpmRc.Authsize;
            var rc = r.ReadSized16(out var nonce, TpmHash.MaxDigestSize);
            if (rc.IsError || r.Position > end) return rc == TpmRc.Size ? TpmRc.Size.ForSession(sessionNumber) : TpmRc.Authsize;
            s.NonceOffset = r.Position - nonce.Length;
            s.NonceLength = nonce.Length;
            if (!r.TryReadUInt8(out s.Attributes) || r.Position > end) return TpmRc.Authsize;
            rc = r.ReadSized16(out var hmac, TpmHash.MaxDigestSize);
            if (rc.IsError || r.Position > end) return rc == TpmRc.Size ? TpmRc.Size.ForSession(sessionNumber) : TpmRc.Authsize;
            s.HmacOffset = r.Position - hmac.Length;
            s.HmacLength = hmac.Length;
            s.AuthorizesHandle = -1;
            count++;
        }
        return TpmRc.Success;
    }

    /// <summary>
    /// Checks every session: the first N authorize the N handles that need authorization, in order; the
    /// rest are audit/encrypt/decrypt sessions. Fills <paramref name="authSessionHandles"/> with the session
    /// used for each auth handle. On success the first command parameter has been decrypted in place if a
    /// session asked for it.
    /// </summary>
    public static TpmRc Authorize(
        Tpm2Engine tpm,
        CommandDescriptor d,
        ReadOnlySpan<uint> handles,
        Span<AuthSession> sessions,
        Span<byte> command,
        int parametersStart,
        Span<uint> authSessionHandles,
        byte locality)
    {
        int next = 0;
        for (int i = 0; i < d.Handles.Length; i++)
        {
            if (d.Handles[i].Auth == AuthRole.None) continue;
            sessions[next].AuthorizesHandle = i;
            authSessionHandles[next] = sessions[next].Handle;
            next++;
        }
        foreach (var c in tpm.Sessions.Command) c.Clear();

        // Structure of the area first (handles, attributes, at most one decrypt and one encrypt
        // session: Part 1 §19.6, §21.1), then the authorizations in session order.
        int decrypt = -1, encrypt = -1;
        int audit = -1;
        for (int s = 0; s < sessions.Length; s++)
        {
            var rc = CheckSessionShape(tpm, d, sessions, s, ref decrypt, ref encrypt, ref audit);
            if (rc.IsError) return rc;
        }
        // Exclusivity ends with any command the exclusive audit session does not audit.
        if (audit < 0 || sessions[audit].Handle != tpm.Sessions.ExclusiveAuditSession) tpm.Sessions.ExclusiveAuditSession = 0;
        for (int s = 0; s < sessions.Length; s++)
        {
            ref var session = ref sessions[s];
            var rc = session.Handle == (uint)TpmRh.Pw
                ? CheckPassword(tpm, d, handles, ref session, command, s + 1)
                : CheckSession(tpm, d, handles, sessions, s, command, parametersStart, decrypt, encrypt);
            if (rc.IsError) return rc;
        }
        return decrypt >= 0 ? DecryptParameter(tpm.Sessions.Command[decrypt], command, parametersStart) : TpmRc.Success;
    }

    /// <summary>
    /// Part 1 §19.2 (authorization roles): DUP is only ever granted by a policy session, and so is ADMIN over an NV
    /// index (Part 3 §31: NV_ChangeAuth, NV_UndefineSpaceSpecial), and ADMIN over an object with adminWithPolicy SET
    /// (Part 2 §8.3.3.1.4: TPM2_Certify, ObjectChangeAuth...).
    /// </summary>
    static bool RequiresPolicySession(Tpm2Engine tpm, AuthRole role, uint handle) => role switch
    {
        AuthRole.Dup => true,
        AuthRole.Admin => HandleKinds.TypeOf(handle) == TpmHt.NvIndex || (tpm.Objects.GetKey(handle)?.Has(TpmaObject.AdminWithPolicy) ?? false),
        _ => false,
    };

    static TpmRc CheckSessionShape(Tpm2Engine tpm, CommandDescriptor d, ReadOnlySpan<AuthSession> sessions, int s, ref int decrypt, ref int encrypt, ref int audit)
    {
        var a = sessions[s];
        int n = s + 1;
        var attributes = (TpmaSession)a.Attributes;
        if ((attributes & TpmaSession.Reserved) != 0) return TpmRc.ReservedBits.ForSession(n);
        if (a.Handle == (uint)TpmRh.Pw)
        {
            // Part 1 §19.6.4: a password session has no nonce and only continueSession may be set.
            if (a.NonceLength != 0) return TpmRc.Nonce.ForSession(n);
            if ((attributes & ~TpmaSession.ContinueSession) != 0) return TpmRc.Attributes.ForSession(n);
            return TpmRc.Success;
        }
        // TPMI_SH_AUTH_SESSION: TPM_RS_PW, an HMAC session or a policy session.
        if (HandleKinds.TypeOf(a.Handle) is not (TpmHt.HmacSession or TpmHt.PolicySession)) return TpmRc.Value.ForSession(n);
        for (int j = 0; j < s; j++)
        {
            if (sessions[j].Handle == a.Handle) return TpmRc.Handle.ForSession(n);
        }
        if (!tpm.Sessions.TryGetLoaded(a.Handle, out var session)) return TpmRc.ReferenceSession(s);
        // The size of nonceCaller in a command is not checked beyond TPM2B_NONCE (swtpm accepts short ones);
        // StartAuthSession alone enforces 16..digest size.
        if ((attributes & TpmaSession.Decrypt) != 0)
        {
            if (decrypt >= 0 || !d.Has(CommandAttributes.DecryptParameter)) return TpmRc.Attributes.ForSession(n);
            decrypt = s;
        }
        if ((attributes & TpmaSession.Encrypt) != 0)
        {
            if (encrypt >= 0 || !d.Has(CommandAttributes.EncryptParameter)) return TpmRc.Attributes.ForSession(n);
            encrypt = s;
        }
        if ((attributes & (TpmaSession.Decrypt | TpmaSession.Encrypt)) != 0 && session.SymmetricAlg == TpmAlgId.Null)
            return TpmRc.Symmetric.ForSession(n);
        // Only an HMAC session can audit; auditExclusive and auditReset only go with audit (Part 2 §8.4).
        if ((attributes & TpmaSession.Audit) != 0 ? session.IsPolicy : (attributes & (TpmaSession.AuditExclusive | TpmaSession.AuditReset)) != 0)
            return TpmRc.Attributes.ForSession(n);
        if ((attributes & TpmaSession.Audit) != 0)
        {
            // One audit session per command; auditExclusive asks that no command ran unaudited by this
            // session since its last one (a first use or auditReset starts afresh).
            if (audit >= 0) return TpmRc.Attributes.ForSession(n);
            audit = s;
            if ((attributes & TpmaSession.AuditExclusive) != 0 && (attributes & TpmaSession.AuditReset) == 0
                && session.AuditDigest.Length != 0 && tpm.Sessions.ExclusiveAuditSession != a.Handle)
                return TpmRc.Exclusive;
        }
        // A session that authorizes nothing must be there for audit or parameter encryption.
        if (a.AuthorizesHandle < 0 && (attributes & (TpmaSession.Audit | TpmaSession.Decrypt | TpmaSession.Encrypt)) == 0)
            return TpmRc.Attributes.ForSession(n);
        return TpmRc.Success;
    }

    static TpmRc CheckPassword(Tpm2Engine tpm, CommandDescriptor d, ReadOnlySpan<uint> handles, ref AuthSession session, ReadOnlySpan<byte> command, int sessionNumber)
    {
        if (session.AuthorizesHandle < 0) return TpmRc.AuthUnavailable;
        uint handle = handles[session.AuthorizesHandle];
        if (!tpm.TryGetEntity(handle, out var entity)) return TpmRc.Handle.ForHandle(session.AuthorizesHandle + 1);
        if (entity.PolicyRequired || !entity.AuthValueAllowed) return TpmRc.AuthUnavailable;
        var rc = tpm.DictionaryAttack.CheckLockout(handle, entity);
        if (rc.IsError) return rc;
        // After the lockout check (swtpm answers TPM_RC_LOCKOUT first), before the value is compared.
        if (RequiresPolicySession(tpm, d.Handles[session.AuthorizesHandle].Auth, handle)) return TpmRc.AuthType;
        return ComparePassword(tpm, handle, entity, command.Slice(session.HmacOffset, session.HmacLength), sessionNumber);
    }

    static TpmRc ComparePassword(Tpm2Engine tpm, uint handle, in AuthEntity entity, ReadOnlySpan<byte> given, int sessionNumber)
    {
        var expected = TrimTrailingZeros(entity.AuthValue);
        if (!CryptographicOperations.FixedTimeEquals(TrimTrailingZeros(given), expected))
            return tpm.DictionaryAttack.RecordFailure(handle, entity).ForSession(sessionNumber);
        return TpmRc.Success;
    }

    /// <summary>
    /// An HMAC or policy session (Part 1 §19.6.5, §19.7): a policy session must carry the entity's
    /// authPolicy; the command HMAC is checked under sessionKey || authValue, where authValue is left out
    /// for an HMAC session bound to this very entity (§19.6.9) and for a policy session without
    /// PolicyAuthValue; PolicyPassword turns the hmac field into a cleartext password.
    /// </summary>
    static TpmRc CheckSession(Tpm2Engine tpm, CommandDescriptor d, ReadOnlySpan<uint> handles, ReadOnlySpan<AuthSession> sessions,
        int s, ReadOnlySpan<byte> command, int parametersStart, int decrypt, int encrypt)
    {
        var a = sessions[s];
        int n = s + 1;
        tpm.Sessions.TryGetLoaded(a.Handle, out var session);
        var c = tpm.Sessions.Command[s];
        c.Session = session;
        c.Attributes = a.Attributes;
        c.NonceCaller.Set(command.Slice(a.NonceOffset, a.NonceLength));
        var hmacGiven = command.Slice(a.HmacOffset, a.HmacLength);

        AuthEntity entity = default;
        uint handle = 0;
        bool authorizes = a.AuthorizesHandle >= 0;
        if (authorizes)
        {
            handle = handles[a.AuthorizesHandle];
            if (!tpm.TryGetEntity(handle, out entity)) return TpmRc.Handle.ForHandle(a.AuthorizesHandle + 1);
            c.AuthHandle = handle;
            c.AuthValue.Set(TrimTrailingZeros(entity.AuthValue));
            if (session.IsPolicy)
            {
                // A trial session only computes a digest; it never authorizes.
                if (session.IsTrial) return TpmRc.Attributes.ForSession(n);
                if (entity.PolicyAlg != session.AuthHash || !CryptographicOperations.FixedTimeEquals(session.PolicyDigest, entity.AuthPolicy))
                    return TpmRc.PolicyFail.ForSession(n);
                c.IncludeAuth = session.IsAuthValueNeeded;
                if (session.IsAuthValueNeeded || session.IsPasswordNeeded)
                {
                    var rc = tpm.DictionaryAttack.CheckLockout(handle, entity);
                    if (rc.IsError) return rc;
                }
                if (session.IsPasswordNeeded) return ComparePassword(tpm, handle, entity, hmacGiven, n);
            }
            else
            {
                if (entity.PolicyRequired || !entity.AuthValueAllowed) return TpmRc.AuthUnavailable;
                var rc = tpm.DictionaryAttack.CheckLockout(handle, entity);
                if (rc.IsError) return rc;
                if (RequiresPolicySession(tpm, d.Handles[a.AuthorizesHandle].Auth, handle)) return TpmRc.AuthType;
                c.IncludeAuth = !IsBoundTo(session, entity.Name is { Length: > 0 } ? entity.Name : tpm.GetNameOfHandle(handle), c.AuthValue.Value);
            }
        }

        // Part 1 §19.6.5: HMAC(sessionKey || authValue, cpHash || nonceCaller || nonceTPM ||
        // nonceTPMdecrypt || nonceTPMencrypt || sessionAttributes); the extra nonces only in the first
        // session, and only of other sessions. The message is assembled on the stack; the HMAC runs on a
        // kept context for this key (HmacContexts).
        int digestSize = TpmHash.DigestSize(session.AuthHash);
        ComputeCpHash(tpm, session.AuthHash, d.Code, handles, command[parametersStart..], c.CpHash.Allocate(digestSize));
        Span<byte> message = stackalloc byte[MaxHmacMessage];
        var m = new TpmWriter(message);
        m.WriteBytes(c.CpHash.Value);
        m.WriteBytes(c.NonceCaller.Value);
        m.WriteBytes(session.NonceTpm);
        if (s == 0)
        {
            if (decrypt > 0) m.WriteBytes(NonceTpmOf(tpm, sessions[decrypt].Handle));
            if (encrypt > 0 && encrypt != decrypt) m.WriteBytes(NonceTpmOf(tpm, sessions[encrypt].Handle));
        }
        m.WriteUInt8(a.Attributes);
        Span<byte> expected = stackalloc byte[TpmHash.MaxDigestSize];
        expected = expected[..SessionHmac(tpm, session, c, m.Written, expected)];
        if (!CryptographicOperations.FixedTimeEquals(hmacGiven, expected))
        {
            return authorizes ? tpm.DictionaryAttack.RecordFailure(handle, entity).ForSession(n) : TpmRc.BadAuth.ForSession(n);
        }
        return TpmRc.Success;
    }

    /// <summary>cpHash || nonceCaller || nonceTPM || two more nonces || attributes, each at most a digest.</summary>
    const int MaxHmacMessage = 5 * TpmHash.MaxDigestSize + 1;

    /// <summary>
    /// HMAC(sessionKey || authValue, message) with the session's hash (authValue only when
    /// <see cref="CommandSession.IncludeAuth"/>); the key is assembled on the stack and wiped.
    /// </summary>
    static int SessionHmac(Tpm2Engine tpm, Session session, CommandSession c, ReadOnlySpan<byte> message, Span<byte> destination)
    {
        var authValue = c.IncludeAuth ? c.AuthValue.Value : default;
        int keyLength = session.SessionKey.Length + authValue.Length;
        Span<byte> key = keyLength <= 2 * TpmHash.MaxDigestSize ? stackalloc byte[2 * TpmHash.MaxDigestSize] : new byte[keyLength];
        key = key[..keyLength];
        session.SessionKey.CopyTo(key);
        authValue.CopyTo(key[session.SessionKey.Length..]);
        int n = tpm.Hmacs.Compute(session.AuthHash, key, message, destination);
        CryptographicOperations.ZeroMemory(key);
        return n;
    }

    static ReadOnlySpan<byte> NonceTpmOf(Tpm2Engine tpm, uint handle) => tpm.Sessions.TryGetLoaded(handle, out var s) ? s.NonceTpm : default;

    static bool IsBoundTo(Session session, ReadOnlySpan<byte> name, ReadOnlySpan<byte> authValue)
    {
        if (session.BoundEntity.Length == 0) return false;
        Span<byte> bound = stackalloc byte[TpmHash.MaxDigestSize];
        bound = bound[..Session.ComputeBoundEntity(session.AuthHash, name, authValue, bound)];
        return CryptographicOperations.FixedTimeEquals(session.BoundEntity, bound);
    }

    /// <summary>
    /// Part 1 §21.1: the parameter encryption key is sessionKey || authValue of the entity the session
    /// authorizes — unlike the HMAC key, the authValue stays in for a session bound to that entity
    /// (as swtpm/libtpms does); a session that authorizes nothing uses sessionKey alone.
    /// </summary>
    static byte[] EncryptionKey(Session session, CommandSession c)
    {
        bool include = c.AuthHandle is not null;
        var authValue = include ? c.AuthValue.Value : default;
        var key = new byte[session.SessionKey.Length + authValue.Length];
        session.SessionKey.CopyTo(key, 0);
        authValue.CopyTo(key.AsSpan(session.SessionKey.Length));
        return key;
    }

    /// <summary>Part 1 §18.7 cpHash = H(commandCode || Name1 || ... || NameN || parameters), into <paramref name="destination"/>.</summary>
    static void ComputeCpHash(Tpm2Engine tpm, TpmAlgId hashAlg, TpmCc code, ReadOnlySpan<uint> handles, ReadOnlySpan<byte> parameters, Span<byte> destination)
    {
        var h = tpm.Hashes.Start(hashAlg);
        try
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, (uint)code);
            h.AppendData(b);
            foreach (var handle in handles) h.AppendData(tpm.GetName(handle));
            h.AppendData(parameters);
            HashContexts.Finish(h, destination);
        }
        catch
        {
            HashContexts.Abandon(h);
            throw;
        }
    }

    /// <summary>Part 1 §18.8 rpHash = H(responseCode || commandCode || parameters); responseCode is TPM_RC_SUCCESS.</summary>
    static void ComputeRpHash(Tpm2Engine tpm, TpmAlgId hashAlg, TpmCc code, ReadOnlySpan<byte> parameters, Span<byte> destination)
    {
        var h = tpm.Hashes.Start(hashAlg);
        try
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(b, 0);
            BinaryPrimitives.WriteUInt32BigEndian(b[4..], (uint)code);
            h.AppendData(b);
            h.AppendData(parameters);
            HashContexts.Finish(h, destination);
        }
        catch
        {
            HashContexts.Abandon(h);
            throw;
        }
    }

    /// <summary>Part 1 §21: decrypts the data of the first command parameter (a TPM2B) in place.</summary>
    static TpmRc DecryptParameter(CommandSession c, Span<byte> command, int parametersStart)
    {
        var session = c.Session!;
        if (command.Length - parametersStart < 2) return TpmRc.Insufficient.ForParameter(1);
        int size = BinaryPrimitives.ReadUInt16BigEndian(command[parametersStart..]);
        if (size > command.Length - parametersStart - 2) return TpmRc.Size.ForParameter(1);
        var data = command.Slice(parametersStart + 2, size);
        var key = EncryptionKey(session, c);
        Crypt(session, key, c.NonceCaller.Value, session.NonceTpm, data, encrypt: false);
        CryptographicOperations.ZeroMemory(key);
        return TpmRc.Success;
    }

    static void Crypt(Session session, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, Span<byte> data, bool encrypt)
    {
        if (session.SymmetricAlg == TpmAlgId.Xor) ParameterCipher.Xor(session.AuthHash, key, nonceNewer, nonceOlder, data);
        else ParameterCipher.Cfb(session.AuthHash, session.SymmetricKeyBits, key, nonceNewer, nonceOlder, data, encrypt);
    }

    /// <summary>Part 1 §19.6.4.3: trailing zeros of an authValue are not significant.</summary>
    public static ReadOnlySpan<byte> TrimTrailingZeros(ReadOnlySpan<byte> value)
    {
        int n = value.Length;
        while (n > 0 && value[n - 1] == 0) n--;
        return value[..n];
    }

    /// <summary>A command failed after authorization: sessions do not advance (Part 1 §19.6.5).</summary>
    public static void OnCommandFailed(Tpm2Engine tpm, ReadOnlySpan<AuthSession> sessions) => tpm.Sessions.OnCommandFailed(sessions);

    /// <summary>
    /// Writes the response authorization area: one TPMS_AUTH_RESPONSE per command session. Every HMAC and
    /// policy session gets a new nonceTPM; the first response parameter is encrypted by the encrypt session
    /// (nonceNewer = the new nonceTPM); then each response HMAC is
    /// HMAC(sessionKey || authValue, rpHash || nonceTPM || nonceCaller || sessionAttributes) (Part 1 §19.6.6).
    /// Session state changes only once the whole area is written.
    /// </summary>
    public static TpmRc WriteResponseSessions(Tpm2Engine tpm, CommandDescriptor d, scoped ReadOnlySpan<AuthSession> sessions, scoped ReadOnlySpan<byte> command, ref TpmWriter w, int paramsOffset, int paramsLength)
    {
        var pending = tpm.Sessions.Command;
        for (int s = 0; s < sessions.Length; s++)
        {
            if (pending[s].Session is not { } session) continue;
            // A rolled nonceTPM keeps the size the session started with (see SessionSubsystem.Create).
            tpm.Random.Generate(pending[s].NewNonceTpm.Allocate(session.NonceTpm.Length));
            // A command may change the authValue it was authorized with (HierarchyChangeAuth,
            // NV_ChangeAuth): the response is keyed with the value now in effect.
            if (pending[s].AuthHandle is uint h && tpm.TryGetEntity(h, out var entity))
                pending[s].AuthValue.Set(TrimTrailingZeros(entity.AuthValue));
        }

        var parameters = w.Buffer.Slice(paramsOffset, paramsLength);
        for (int s = 0; s < sessions.Length; s++)
        {
            if ((sessions[s].Attributes & (byte)TpmaSession.Encrypt) == 0 || pending[s].Session is not { } session) continue;
            if (parameters.Length < 2) break;
            int size = BinaryPrimitives.ReadUInt16BigEndian(parameters);
            if (size > parameters.Length - 2) return TpmRc.Failure;
            var key = EncryptionKey(session, pending[s]);
            Crypt(session, key, pending[s].NewNonceTpm.Value, pending[s].NonceCaller.Value, parameters.Slice(2, size), encrypt: true);
            CryptographicOperations.ZeroMemory(key);
        }

        Span<byte> message = stackalloc byte[MaxHmacMessage];
        Span<byte> hmac = stackalloc byte[TpmHash.MaxDigestSize];
        for (int s = 0; s < sessions.Length; s++)
        {
            var a = sessions[s];
            if (a.Handle == (uint)TpmRh.Pw)
            {
                // Empty nonce, attributes echoed (continueSession), empty HMAC.
                w.WriteUInt16(0);
                w.WriteUInt8((byte)TpmaSession.ContinueSession);
                w.WriteUInt16(0);
                continue;
            }
            var c = pending[s];
            var session = c.Session!;
            // Attributes are echoed; an audit session is the exclusive audit session once this
            // command completes, which the response reports with auditExclusive (as swtpm does).
            byte attributes = a.Attributes;
            if ((attributes & (byte)TpmaSession.Audit) != 0) attributes |= (byte)TpmaSession.AuditExclusive;
            w.WriteSized16(c.NewNonceTpm.Value);
            w.WriteUInt8(attributes);
            if (session.IsPolicy && session.IsPasswordNeeded && c.AuthHandle is not null)
            {
                w.WriteUInt16(0);
                continue;
            }
            ComputeRpHash(tpm, session.AuthHash, d.Code, parameters, c.RpHash.Allocate(TpmHash.DigestSize(session.AuthHash)));
            var m = new TpmWriter(message);
            m.WriteBytes(c.RpHash.Value);
            m.WriteBytes(c.NewNonceTpm.Value);
            m.WriteBytes(c.NonceCaller.Value);
            m.WriteUInt8(attributes);
            w.WriteSized16(hmac[..SessionHmac(tpm, session, c, m.Written, hmac)]);
        }
        if (w.Overflowed) return TpmRc.Size;
        tpm.Sessions.CompleteCommand(sessions.Length);
        return TpmRc.Success;
    }
}
