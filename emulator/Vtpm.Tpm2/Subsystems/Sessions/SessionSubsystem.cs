using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// The session table (Part 1 §19.6–19.7, §30 context management): up to <see cref="MaxActiveSessions"/>
/// active sessions, each either loaded (in TPM RAM, at most <see cref="MaxLoadedSessions"/>) or saved
/// (its state held by the caller in a context blob; the TPM keeps only the contextID that blob must carry,
/// so an older copy cannot be loaded again). Handles are 0x02000000/0x03000000 + slot.
/// </summary>
public sealed class SessionSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>MAX_LOADED_SESSIONS: TPM_PT_HR_LOADED_MIN (3, as the reference implementation and swtpm).</summary>
    public const int MaxLoadedSessions = 3;

    /// <summary>MAX_ACTIVE_SESSIONS: TPM_PT_ACTIVE_SESSIONS_MAX.</summary>
    public const int MaxActiveSessions = 64;

    /// <summary>TPM_PT_CONTEXT_GAP_MAX: the largest allowed distance between the oldest and newest saved session.</summary>
    public const uint ContextGapMax = 0xFFFF;

    /// <summary>Largest contextBlob this TPM produces or accepts (TPM_PT_MAX_SESSION_CONTEXT).</summary>
    public const int MaxSessionContext = 1024;

    const ushort VolatileVersion = 1;

    readonly Session?[] _loaded = new Session?[MaxActiveSessions];

    // The contextID (TPMS_CONTEXT.sequence) a saved session's blob must carry; 0 = slot not saved.
    readonly ulong[] _saved = new ulong[MaxActiveSessions];
    readonly uint[] _savedHandle = new uint[MaxActiveSessions];

    // Part 1 §30.2: incremented for every saved context; restarts at TPM Reset.
    ulong _contextCounter = 1;

    // A value that changes at every TPM Reset and is bound into every session context's integrity
    // (Part 1 §30.3 resetValue), so contexts from before a TPM Reset never load again.
    byte[] _resetValue = [];

    /// <summary>A value new at every TPM Reset: in the integrity of every saved context, so none survives a Reset (Part 1 §30.3).</summary>
    public ReadOnlySpan<byte> ResetValue => _resetValue;

    public override string Tag => "SESS";

    /// <summary>
    /// The exclusive audit session: the session that audited the last command, as long as no command
    /// ran without it since (a command with auditExclusive from any other session is TPM_RC_EXCLUSIVE).
    /// 0 when there is none.
    /// </summary>
    public uint ExclusiveAuditSession { get; internal set; }

    /// <summary>Per-command scratch for each session of the command being executed, filled by Authorization.</summary>
    internal CommandSession[] Command { get; } = [new(), new(), new()];

    // ---------------------------------------------------------------- lookup

    static bool TryGetSlot(uint handle, out int slot)
    {
        slot = (int)(handle & 0x00FFFFFF);
        var type = HandleKinds.TypeOf(handle);
        return type is TpmHt.HmacSession or TpmHt.PolicySession && slot < MaxActiveSessions;
    }

    /// <summary>True if the handle names a loaded session (what a handle or session area may reference).</summary>
    public bool Exists(uint handle) => TryGetLoaded(handle, out _);

    public bool TryGetLoaded(uint handle, out Session session)
    {
        session = null!;
        if (!TryGetSlot(handle, out int slot) || _loaded[slot] is not { } s || s.Handle != handle) return false;
        session = s;
        return true;
    }

    bool IsSaved(uint handle, int slot) => _saved[slot] != 0 && _savedHandle[slot] == handle;

    public int LoadedCount
    {
        get
        {
            int n = 0;
            foreach (var s in _loaded) if (s is not null) n++;
            return n;
        }
    }

    public int ActiveCount
    {
        get
        {
            int n = 0;
            for (int i = 0; i < MaxActiveSessions; i++) if (_loaded[i] is not null || _saved[i] != 0) n++;
            return n;
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /// <summary>
    /// Creates a session for TPM2_StartAuthSession. TPM_RC_SESSION_MEMORY when
    /// <see cref="MaxLoadedSessions"/> are loaded, TPM_RC_SESSION_HANDLES when all
    /// <see cref="MaxActiveSessions"/> handles are in use (Part 3 §11.1).
    /// </summary>
    public TpmRc Create(TpmSe type, TpmAlgId authHash, in TpmtSymDef symmetric,
        ReadOnlySpan<byte> nonceCaller, ReadOnlySpan<byte> bindAuthValue, ReadOnlySpan<byte> boundEntity, bool bound, out Session session)
    {
        session = null!;
        if (LoadedCount >= MaxLoadedSessions) return TpmRc.SessionMemory;
        int slot = -1;
        for (int i = 0; i < MaxActiveSessions; i++)
        {
            if (_loaded[i] is null && _saved[i] == 0) { slot = i; break; }
        }
        if (slot < 0) return TpmRc.SessionHandles;

        int digestSize = TpmHash.DigestSize(authHash);
        // The reference sizes nonceTPM like nonceCaller (16 bytes up to the digest size) and keeps that
        // size for the life of the session; swtpm answers the same.
        var nonceTpm = new byte[nonceCaller.Length];
        Tpm.Random.Generate(nonceTpm);
        // Part 1 §19.6.8: sessionKey = KDFa(sessionAlg, bind.authValue || salt, "ATH", nonceTPM,
        // nonceCaller, digestSize·8); empty when neither bind nor salt is given. Unsalted here.
        byte[] sessionKey = bound
            ? Kdf.KdfA(authHash, bindAuthValue, "ATH", nonceTpm, nonceCaller, digestSize * 8)
            : [];
        uint handleBase = type == TpmSe.Hmac ? 0x02000000u : 0x03000000u;
        session = new Session
        {
            Handle = handleBase + (uint)slot,
            SessionType = type,
            AuthHash = authHash,
            SymmetricAlg = symmetric.Algorithm,
            SymmetricKeyBits = Session.KeyBitsOf(symmetric),
            SymmetricMode = Session.ModeOf(symmetric),
            SessionKey = sessionKey,
            NonceTpm = nonceTpm,
            BoundEntity = bound && type == TpmSe.Hmac ? boundEntity.ToArray() : [],
        };
        if (session.IsPolicy) session.ResetPolicy();
        _loaded[slot] = session;
        return TpmRc.Success;
    }

    /// <summary>Part 3 §28.4 TPM2_FlushContext for a session, loaded or saved. False if there is no such session.</summary>
    public bool Flush(uint handle)
    {
        if (!TryGetSlot(handle, out int slot)) return false;
        if (ExclusiveAuditSession == handle) ExclusiveAuditSession = 0;
        if (_loaded[slot] is { } s && s.Handle == handle)
        {
            _loaded[slot] = null;
            return true;
        }
        if (IsSaved(handle, slot))
        {
            _saved[slot] = 0;
            _savedHandle[slot] = 0;
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- context save / load

    /// <summary>
    /// Part 3 §28.2 TPM2_ContextSave of a loaded session: the session leaves RAM and its state goes to the
    /// caller in a blob protected as Part 1 §30.3 describes — encrypted with a key derived from the NULL
    /// hierarchy's proof by KDFa(…, "CONTEXT", sequence, handle) and integrity-protected by an HMAC under the
    /// proof over the per-reset value, sequence, handle and encrypted state.
    /// TPM_RC_CONTEXT_GAP if the oldest saved session would fall further behind than <see cref="ContextGapMax"/>;
    /// TPM_RC_SIZE if the marshalled TPMS_CONTEXT would not fit in <paramref name="room"/> octets (what is left of
    /// the response) — both before the session leaves RAM.
    /// </summary>
    public TpmRc Save(uint handle, int room, ref TpmsContext context)
    {
        if (!TryGetLoaded(handle, out var session) || !TryGetSlot(handle, out int slot)) return TpmRc.Handle.ForHandle(1);
        ulong sequence = _contextCounter;
        for (int i = 0; i < MaxActiveSessions; i++)
        {
            if (_saved[i] != 0 && sequence - _saved[i] > ContextGapMax) return TpmRc.ContextGap;
        }
        var plain = new StateWriter();
        session.Write(plain);
        var state = plain.ToArray();
        uint hierarchy = (uint)TpmRh.Null;
        var proof = Tpm.Hierarchy.GetProof(hierarchy);
        ContextProtection.Crypt(proof, sequence, handle, state, encrypt: true);
        var integrity = ContextProtection.Integrity(proof, _resetValue, sequence, handle, hierarchy, state);

        // TPMS_CONTEXT (Part 2 §14.5): sequence, savedHandle, hierarchy, contextBlob (TPMS_CONTEXT_DATA: the integrity
        // TPM2B_DIGEST, then the encrypted state).
        context.Sequence = sequence;
        context.SavedHandle = handle;
        context.Hierarchy = hierarchy;
        var blob = new TpmWriter(context.ContextBlob.Buffer);
        blob.WriteSized16(integrity);
        blob.WriteBytes(state);
        if (blob.Overflowed || 8 + 4 + 4 + 2 + blob.Position > room) return TpmRc.Size;
        context.ContextBlob.Size = (ushort)blob.Position;

        _contextCounter++;
        _loaded[slot] = null;
        _saved[slot] = sequence;
        _savedHandle[slot] = handle;
        return TpmRc.Success;
    }

    /// <summary>
    /// Part 3 §28.3 TPM2_ContextLoad of a session context. TPM_RC_INTEGRITY (parameter 1) for a blob this TPM
    /// did not make or that was changed; TPM_RC_HANDLE (parameter 1) for a context that is not the current
    /// saved state of its session (already loaded, flushed, or an older copy); TPM_RC_SESSION_MEMORY when
    /// no session slot is free.
    /// </summary>
    public TpmRc Load(ulong sequence, uint savedHandle, uint hierarchy, ReadOnlySpan<byte> contextBlob, out uint loadedHandle)
    {
        loadedHandle = 0;
        var blobReader = new TpmReader(contextBlob);
        if (blobReader.ReadSized16(out var integrity, TpmHash.MaxDigestSize).IsError) return TpmRc.Integrity.ForParameter(1);
        var state = blobReader.RemainingSpan.ToArray();
        var proof = Tpm.Hierarchy.GetProof(hierarchy);
        var expected = ContextProtection.Integrity(proof, _resetValue, sequence, savedHandle, hierarchy, state);
        if (!CryptographicOperations.FixedTimeEquals(integrity, expected)) return TpmRc.Integrity.ForParameter(1);

        if (!TryGetSlot(savedHandle, out int slot) || !IsSaved(savedHandle, slot) || _saved[slot] != sequence) return TpmRc.Handle.ForParameter(1);
        if (LoadedCount >= MaxLoadedSessions) return TpmRc.SessionMemory;
        ContextProtection.Crypt(proof, sequence, savedHandle, state, encrypt: false);
        Session session;
        try
        {
            var r = new StateReader(state);
            session = Session.Read(r);
            if (!r.AtEnd) throw new StateFormatException("trailing bytes in a session context");
        }
        catch (StateFormatException)
        {
            // Integrity held, so this blob is ours; not parsing means a broken invariant.
            throw new InvalidOperationException("a session context that passed its integrity check does not parse");
        }
        if (session.Handle != savedHandle) return TpmRc.Handle.ForParameter(1);
        _saved[slot] = 0;
        _savedHandle[slot] = 0;
        _loaded[slot] = session;
        loadedHandle = savedHandle;
        return TpmRc.Success;
    }

    // ---------------------------------------------------------------- per-command session use

    /// <summary>A command failed after authorization: nothing advances (Part 1 §19.6.5).</summary>
    public void OnCommandFailed(ReadOnlySpan<AuthSession> sessions)
    {
        foreach (var c in Command) c.Clear();
    }

    /// <summary>
    /// After a successful command: every session gets its new nonceTPM, a policy session whose nonce rolled
    /// starts a new policy (Part 1 §19.7.1), and a session without continueSession is flushed.
    /// </summary>
    internal void CompleteCommand(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var c = Command[i];
            if (c.Session is not { } s) continue;
            // nonceTPM keeps its size for the life of the session: the new one goes into the same array.
            if (s.NonceTpm.Length == c.NewNonceTpm.Value.Length) c.NewNonceTpm.Value.CopyTo(s.NonceTpm);
            else s.NonceTpm = c.NewNonceTpm.Value.ToArray();
            if ((c.Attributes & (byte)TpmaSession.Audit) != 0)
            {
                // Part 1 "Session Audit": a first use or auditReset starts a new digest.
                if (s.AuditDigest.Length == 0 || (c.Attributes & (byte)TpmaSession.AuditReset) != 0)
                    s.AuditDigest = new byte[TpmHash.DigestSize(s.AuthHash)];
                s.AuditDigest = TpmHash.Hash(s.AuthHash, [.. s.AuditDigest, .. c.CpHash.Value, .. c.RpHash.Value]);
                ExclusiveAuditSession = s.Handle;
            }
            if ((c.Attributes & (byte)TpmaSession.ContinueSession) == 0) Flush(s.Handle);
            else if (s.IsPolicy) s.ResetPolicy();
        }
        foreach (var c in Command) c.Clear();
    }

    // ---------------------------------------------------------------- subsystem hooks

    public override void OnInit()
    {
        // RAM is gone; a volatile blob read right after this restores it.
        Array.Clear(_loaded);
        Array.Clear(_saved);
        Array.Clear(_savedHandle);
        _contextCounter = 1;
        _resetValue = [];
        ExclusiveAuditSession = 0;
    }

    public override void OnStartup(StartupKind kind)
    {
        // Loaded sessions never survive a Startup; saved contexts survive TPM Restart and Resume
        // (Part 1 §12.2, §30.5) and are invalidated by a TPM Reset together with the counter.
        Array.Clear(_loaded);
        if (kind == StartupKind.Reset || _resetValue.Length == 0)
        {
            Array.Clear(_saved);
            Array.Clear(_savedHandle);
            _contextCounter = 1;
            _resetValue = new byte[16];
            Tpm.Random.Generate(_resetValue);
        }
    }

    public override void WriteVolatile(StateWriter w)
    {
        w.U16(VolatileVersion);
        w.U64(_contextCounter);
        w.Bytes(_resetValue);
        w.U32(ExclusiveAuditSession);
        w.U8((byte)ActiveCount);
        for (int i = 0; i < MaxActiveSessions; i++)
        {
            if (_loaded[i] is { } s)
            {
                w.U8((byte)i);
                w.Bool(true);
                s.Write(w);
            }
            else if (_saved[i] != 0)
            {
                w.U8((byte)i);
                w.Bool(false);
                w.U32(_savedHandle[i]);
                w.U64(_saved[i]);
            }
        }
    }

    public override void ReadVolatile(StateReader r)
    {
        ushort version = r.U16();
        if (version != VolatileVersion) throw new StateFormatException($"session state version {version} is not {VolatileVersion}");
        Array.Clear(_loaded);
        Array.Clear(_saved);
        Array.Clear(_savedHandle);
        _contextCounter = r.U64();
        _resetValue = r.Bytes(64);
        ExclusiveAuditSession = r.U32();
        int count = r.U8();
        for (int n = 0; n < count; n++)
        {
            int slot = r.U8();
            if (slot >= MaxActiveSessions || _loaded[slot] is not null || _saved[slot] != 0) throw new StateFormatException($"bad session slot {slot}");
            if (r.Bool())
            {
                var s = Session.Read(r);
                if ((s.Handle & 0x00FFFFFF) != slot) throw new StateFormatException($"session 0x{s.Handle:X8} in slot {slot}");
                _loaded[slot] = s;
            }
            else
            {
                _savedHandle[slot] = r.U32();
                _saved[slot] = r.U64();
                if (!TryGetSlot(_savedHandle[slot], out int hs) || hs != slot) throw new StateFormatException($"saved session 0x{_savedHandle[slot]:X8} in slot {slot}");
                if (_saved[slot] == 0) throw new StateFormatException("saved session without a contextID");
            }
        }
        if (LoadedCount > MaxLoadedSessions) throw new StateFormatException("more loaded sessions than the TPM holds");
    }

    /// <summary>TPM_CAP_HANDLES: TPM_HT_LOADED_SESSION (0x02) lists loaded sessions, TPM_HT_SAVED_SESSION (0x03) saved ones (Part 2 §7.2).</summary>
    public override void ListHandles(TpmHt type, List<uint> handles)
    {
        if (type == TpmHt.LoadedSession)
        {
            foreach (var s in _loaded) if (s is not null) handles.Add(s.Handle);
        }
        else if (type == TpmHt.SavedSession)
        {
            // As swtpm (and the reference implementation): a saved session is reported by its slot
            // under the HMAC session range, whatever its type.
            for (int i = 0; i < MaxActiveSessions; i++) if (_saved[i] != 0) handles.Add(0x02000000u + (uint)i);
        }
    }

    public override bool TryGetProperty(TpmPt property, out uint value)
    {
        value = property switch
        {
            TpmPt.HrLoaded => (uint)LoadedCount,
            TpmPt.HrLoadedAvail => (uint)(MaxLoadedSessions - LoadedCount),
            TpmPt.HrActive => (uint)ActiveCount,
            TpmPt.HrActiveAvail => (uint)(MaxActiveSessions - ActiveCount),
            TpmPt.HrLoadedMin => MaxLoadedSessions,
            TpmPt.ActiveSessionsMax => MaxActiveSessions,
            TpmPt.ContextGapMax => ContextGapMax,
            TpmPt.MaxSessionContext => MaxSessionContext,
            TpmPt.ContextHash => (uint)ContextProtection.Hash,
            TpmPt.ContextSym => (uint)TpmAlgId.Aes,
            TpmPt.ContextSymSize => ContextProtection.KeyBits,
            _ => uint.MaxValue,
        };
        if (value == uint.MaxValue) { value = 0; return false; }
        return true;
    }
}

/// <summary>
/// What Authorization learned about one session of the current command, used again for the response.
/// The engine keeps one per session slot of a command and reuses it: the byte values live in buffers
/// of the largest digest size, so authorizing a command allocates nothing.
/// </summary>
internal sealed class CommandSession
{
    public Session? Session;
    public byte Attributes;
    public readonly SessionBytes NonceCaller = new();
    public readonly SessionBytes NewNonceTpm = new();
    public readonly SessionBytes CpHash = new();
    public readonly SessionBytes RpHash = new();

    /// <summary>The handle this session authorizes, or null (audit/encrypt/decrypt only).</summary>
    public uint? AuthHandle;

    /// <summary>Whether the entity's authValue is part of the HMAC and encryption keys (decided at command time).</summary>
    public bool IncludeAuth;

    /// <summary>The entity's authValue at command time (trailing zeros removed).</summary>
    public readonly SessionBytes AuthValue = new();

    public void Clear()
    {
        Session = null;
        Attributes = 0;
        NonceCaller.Clear();
        NewNonceTpm.Clear();
        CpHash.Clear();
        RpHash.Clear();
        AuthHandle = null;
        IncludeAuth = false;
        AuthValue.Clear();
    }
}

/// <summary>A byte string of at most a digest (nonce, cpHash, authValue...) in a reused buffer; wiped when cleared.</summary>
internal sealed class SessionBytes
{
    byte[] _buffer = new byte[TpmHash.MaxDigestSize];
    int _length;

    public ReadOnlySpan<byte> Value => _buffer.AsSpan(0, _length);

    public void Set(ReadOnlySpan<byte> value) => value.CopyTo(Allocate(value.Length));

    /// <summary>Sets the length to <paramref name="length"/> and returns the bytes to fill.</summary>
    public Span<byte> Allocate(int length)
    {
        // Values are bounded by the largest digest where they are parsed or set; a larger one is kept anyway.
        if (length > _buffer.Length) _buffer = new byte[length];
        _length = length;
        return _buffer.AsSpan(0, length);
    }

    public void Clear()
    {
        if (_length != 0) CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length));
        _length = 0;
    }
}
