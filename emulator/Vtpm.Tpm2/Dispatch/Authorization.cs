using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// The authorization area of a command (Part 1 §18–19, Part 3 §5.4–5.6): parsing, checking each
/// session against the entity it authorizes, and the response's session area. Runs once per command,
/// in the dispatcher.
/// </summary>
public static class Authorization
{
    /// <summary>Parses authorizationSize and the TPMS_AUTH_COMMAND entries that follow it.</summary>
    public static TpmRc ParseSessionArea(ref TpmReader r, scoped Span<AuthSession> sessions, out int count)
    {
        count = 0;
        if (!r.TryReadUInt32(out uint authSize)) return TpmRc.Authsize;
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
    /// Checks every session: the first N authorize the N handles that need authorization, in order.
    /// Fills <paramref name="authSessionHandles"/> with the session used for each auth handle.
    /// </summary>
    public static TpmRc Authorize(
        Tpm2Engine tpm,
        CommandDescriptor d,
        ReadOnlySpan<uint> handles,
        Span<AuthSession> sessions,
        ReadOnlySpan<byte> command,
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
        for (int s = 0; s < sessions.Length; s++)
        {
            ref var session = ref sessions[s];
            if ((session.Attributes & (byte)TpmaSession.Reserved) != 0) return TpmRc.ReservedBits.ForSession(s + 1);
            if (session.Handle == (uint)TpmRh.Pw)
            {
                var rc = CheckPassword(tpm, d, handles, ref session, command, s + 1);
                if (rc.IsError) return rc;
            }
            else
            {
                // HMAC and policy sessions arrive with the sessions subsystem.
                var rc = tpm.Sessions.CheckSession(d, handles, ref session, command, parametersStart, s + 1, locality);
                if (rc.IsError) return rc;
            }
        }
        return TpmRc.Success;
    }

    static TpmRc CheckPassword(Tpm2Engine tpm, CommandDescriptor d, ReadOnlySpan<uint> handles, ref AuthSession session, ReadOnlySpan<byte> command, int sessionNumber)
    {
        // Part 1 §19.6.4: a password session has no nonce and only continueSession may be set.
        if (session.NonceLength != 0) return TpmRc.Nonce.ForSession(sessionNumber);
        if ((session.Attributes & ~(byte)TpmaSession.ContinueSession) != 0) return TpmRc.Attributes.ForSession(sessionNumber);
        if (session.AuthorizesHandle < 0) return TpmRc.AuthUnavailable;
        uint handle = handles[session.AuthorizesHandle];
        if (!tpm.TryGetEntity(handle, out var entity)) return TpmRc.Handle.ForHandle(session.AuthorizesHandle + 1);
        if (entity.PolicyRequired || !entity.AuthValueAllowed) return TpmRc.AuthUnavailable;
        var rc = tpm.DictionaryAttack.CheckLockout(handle, entity);
        if (rc.IsError) return rc;
        var given = TrimTrailingZeros(command.Slice(session.HmacOffset, session.HmacLength));
        var expected = TrimTrailingZeros(entity.AuthValue);
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(given, expected))
        {
            return tpm.DictionaryAttack.RecordFailure(handle, entity).ForSession(sessionNumber);
        }
        return TpmRc.Success;
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

    /// <summary>Writes the response authorization area: one TPMS_AUTH_RESPONSE per command session.</summary>
    public static TpmRc WriteResponseSessions(Tpm2Engine tpm, CommandDescriptor d, scoped ReadOnlySpan<AuthSession> sessions, scoped ReadOnlySpan<byte> command, ref TpmWriter w, int paramsOffset, int paramsLength)
    {
        foreach (var s in sessions)
        {
            if (s.Handle == (uint)TpmRh.Pw)
            {
                // Empty nonce, attributes echoed (continueSession), empty HMAC.
                w.WriteUInt16(0);
                w.WriteUInt8((byte)TpmaSession.ContinueSession);
                w.WriteUInt16(0);
            }
            else
            {
                var rc = tpm.Sessions.WriteResponseSession(d, s, command, ref w, paramsOffset, paramsLength);
                if (rc.IsError) return rc;
            }
        }
        return TpmRc.Success;
    }
}
