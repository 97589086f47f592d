using System.Buffers.Binary;
using System.Diagnostics;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.State;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// One TPM 2.0 instance: the command pipeline of ARCHITECTURE.md (header → command table → handles →
/// session area → authorization → parameters → handler → response → commit) over the state of its
/// subsystems. Commands execute strictly one at a time; transports may call from any thread.
/// </summary>
public sealed partial class Tpm2Engine
{
    const int HeaderSize = 10;
    const int MaxSessions = 3;

    readonly object _gate = new();
    readonly IStateStore _store;
    readonly byte[] _command;
    readonly Subsystem[] _subsystems;
    bool _permanentDirty;

    public Tpm2Options Options { get; }
    public TpmPlatform Platform { get; }

    // Subsystems, in the order their sections appear in the state blobs.
    public EngineSubsystem Engine { get; }
    public RandomSubsystem Random { get; }
    public ClockSubsystem Clock { get; }
    public HierarchySubsystem Hierarchy { get; }
    public DictionaryAttackSubsystem DictionaryAttack { get; }
    public PcrSubsystem Pcr { get; }
    public NvSubsystem Nv { get; }
    public ObjectSubsystem Objects { get; }
    public SessionSubsystem Sessions { get; }

    public Tpm2Engine(IStateStore store, Tpm2Options? options = null, TpmPlatform? platform = null)
    {
        _store = store;
        Options = options ?? new Tpm2Options();
        Platform = platform ?? new TpmPlatform();
        _command = new byte[Math.Max(Options.MaxCommandSize, 4096)];
        Engine = new EngineSubsystem(this);
        Random = new RandomSubsystem(this);
        Clock = new ClockSubsystem(this);
        Hierarchy = new HierarchySubsystem(this);
        DictionaryAttack = new DictionaryAttackSubsystem(this);
        Pcr = new PcrSubsystem(this);
        Nv = new NvSubsystem(this);
        Objects = new ObjectSubsystem(this);
        Sessions = new SessionSubsystem(this);
        _subsystems = [Engine, Random, Clock, Hierarchy, DictionaryAttack, Pcr, Nv, Objects, Sessions];
    }

    public IReadOnlyList<Subsystem> Subsystems => _subsystems;

    /// <summary>Reusable hash contexts for the digests every authorized command needs (cpHash, rpHash).</summary>
    public HashContexts Hashes { get; } = new();

    /// <summary>Kept HMAC key schedules for the HMACs every authorized command needs (session HMACs, tickets).</summary>
    public HmacContexts Hmacs { get; } = new();

    /// <summary>True between _TPM_Init and power-off.</summary>
    public bool IsPoweredOn { get; private set; }

    /// <summary>True once TPM2_Startup succeeded after the last _TPM_Init.</summary>
    public bool IsStarted { get => Engine.Started; internal set => Engine.Started = value; }

    /// <summary>Failure mode (Part 1 §12.6): every command but GetTestResult/GetCapability answers TPM_RC_FAILURE.</summary>
    public bool InFailureMode { get; private set; }

    public string? FailureReason { get; private set; }

    /// <summary>Marks permanent state changed: the dispatcher commits it before the response leaves.</summary>
    public void MarkPermanentDirty() => _permanentDirty = true;

    // ---------------------------------------------------------------- power and state

    /// <summary>
    /// _TPM_Init (power on, reset line, swtpm CMD_INIT): loads the permanent state (manufacturing a new
    /// TPM if there is none), forgets RAM, and requires TPM2_Startup. A volatile blob left by
    /// STORE_VOLATILE or SET_STATEBLOB is restored as if the TPM had never stopped.
    /// </summary>
    /// <param name="deleteVolatile">swtpm's PTM_INIT_FLAG_DELETE_VOLATILE: remove the volatile blob after reading it.</param>
    /// <exception cref="StateCorruptException">A blob failed its integrity check or does not parse.</exception>
    public void Init(bool deleteVolatile = false)
    {
        lock (_gate)
        {
            IsPoweredOn = false;
            InFailureMode = false;
            FailureReason = null;
            Hmacs.Clear();
            LoadPermanent();
            // Verify the save-state image now too: a damaged one must stop the instance at start, naming
            // the file, rather than surface only when a Startup(STATE) comes (the store checks integrity).
            _ = _store.Load(StateBlobKind.SaveState);
            foreach (var s in _subsystems) s.OnInit();
            var vol = _store.Load(StateBlobKind.Volatile);
            if (vol is not null)
            {
                ReadBlob(vol, StateBlobKind.Volatile, volatileSection: true);
                if (deleteVolatile) _store.Delete(StateBlobKind.Volatile);
            }
            IsPoweredOn = true;
        }
    }

    /// <summary>Power off: RAM is lost (nothing is written; an orderly TPM was shut down before).</summary>
    public void PowerOff()
    {
        lock (_gate)
        {
            IsPoweredOn = false;
            IsStarted = false;
        }
    }

    void LoadPermanent()
    {
        var perm = _store.Load(StateBlobKind.Permanent);
        if (perm is null)
        {
            foreach (var s in _subsystems) s.Manufacture();
            CommitPermanent();
        }
        else
        {
            ReadBlob(perm, StateBlobKind.Permanent, volatileSection: false);
        }
    }

    void ReadBlob(byte[] blob, StateBlobKind kind, bool volatileSection)
    {
        try
        {
            var r = new StateReader(blob);
            foreach (var s in _subsystems)
            {
                r.BeginSection(s.Tag);
                if (volatileSection) s.ReadVolatile(r); else s.ReadPermanent(r);
                r.EndSection();
            }
            if (!r.AtEnd) throw new StateFormatException("trailing bytes after the last section");
        }
        catch (StateFormatException e)
        {
            throw new StateCorruptException(kind.ToString(), e.Message);
        }
    }

    byte[] WriteBlob(bool volatileSection)
    {
        var w = new StateWriter();
        WriteSections(w, volatileSection);
        return w.ToArray();
    }

    void WriteSections(StateWriter w, bool volatileSection)
    {
        foreach (var s in _subsystems)
        {
            w.BeginSection(s.Tag);
            if (volatileSection) s.WriteVolatile(w); else s.WritePermanent(w);
            w.EndSection();
        }
    }

    // Every commit of permanent state (NV_Write, DA counters...) serializes into this one writer: its buffer
    // is kept, and the store copies what it needs (IStateStore.Save takes a span).
    readonly StateWriter _commitWriter = new();

    void CommitPermanent()
    {
        _commitWriter.Reset();
        WriteSections(_commitWriter, volatileSection: false);
        _store.Save(StateBlobKind.Permanent, _commitWriter.Written);
        _permanentDirty = false;
    }

    /// <summary>The serialized RAM state (PCRs, sessions, loaded objects...).</summary>
    public byte[] SerializeVolatile()
    {
        lock (_gate) return WriteBlob(volatileSection: true);
    }

    /// <summary>Restores RAM state from a blob made by <see cref="SerializeVolatile"/>.</summary>
    public void RestoreVolatile(byte[] blob)
    {
        lock (_gate) ReadBlob(blob, StateBlobKind.Volatile, volatileSection: true);
    }

    /// <summary>swtpm CMD_STORE_VOLATILE: write the RAM state to the store.</summary>
    public void StoreVolatile()
    {
        lock (_gate) _store.Save(StateBlobKind.Volatile, WriteBlob(volatileSection: true));
    }

    /// <summary>Writes the save-state image (TPM2_Shutdown(STATE)).</summary>
    internal void SaveStateImage() => _store.Save(StateBlobKind.SaveState, WriteBlob(volatileSection: true));

    /// <summary>Restores the save-state image for TPM2_Startup(STATE); false if there is none.</summary>
    internal bool LoadStateImage()
    {
        var blob = _store.Load(StateBlobKind.SaveState);
        if (blob is null) return false;
        ReadBlob(blob, StateBlobKind.SaveState, volatileSection: true);
        return true;
    }

    internal void DeleteStateImage() => _store.Delete(StateBlobKind.SaveState);

    /// <summary>Called by Startup once it has decided which kind of startup this is.</summary>
    internal void NotifyStartup(StartupKind kind)
    {
        foreach (var s in _subsystems) s.OnStartup(kind);
        IsStarted = true;
    }

    internal void NotifyShutdown(TpmSu type)
    {
        foreach (var s in _subsystems) s.OnShutdown(type);
    }

    /// <summary>Puts the TPM in failure mode (Part 1 §12.6) after an internal error.</summary>
    public void EnterFailureMode(string reason)
    {
        InFailureMode = true;
        FailureReason = reason;
    }

    // ---------------------------------------------------------------- entities

    /// <summary>Finds the subsystem owning an entity and returns its authorization data and Name.</summary>
    public bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        foreach (var s in _subsystems)
        {
            if (s.TryGetEntity(handle, out entity)) return true;
        }
        entity = default;
        return false;
    }

    /// <summary>The Name of any handle (Part 1 §16): for entities without a public area, the handle itself.</summary>
    public byte[] GetName(uint handle)
    {
        // An entity's own Name wins even when empty (sequence objects have nameAlg NULL, Part 1 §16).
        if (TryGetEntity(handle, out var e)) return e.Name ?? [];
        return GetNameOfHandle(handle);
    }

    /// <summary>
    /// The Name of a PCR, session or permanent handle: the handle's four bytes (Part 1 §16). The Names of
    /// PCRs and permanent handles are made once and shared (every authorization asks for them): callers
    /// must not modify the array.
    /// </summary>
    public byte[] GetNameOfHandle(uint handle)
    {
        if (handle < (uint)PcrNames.Length) return PcrNames[handle];
        uint permanent = handle - PermanentFirst;
        if (permanent < (uint)PermanentNames.Length) return PermanentNames[permanent] ??= HandleBytes(handle);
        return HandleBytes(handle);
    }

    // TPM_RH_FIRST..TPM_RH_LAST (Part 2 §7.4) as a table: the handles with an authorization role live here.
    const uint PermanentFirst = 0x40000000;
    static readonly byte[]?[] PermanentNames = new byte[0x200][];
    static readonly byte[][] PcrNames = [.. Enumerable.Range(0, Pcrs.PcrCount).Select(p => HandleBytes((uint)p))];

    static byte[] HandleBytes(uint handle)
    {
        var n = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, handle);
        return n;
    }

    // ---------------------------------------------------------------- the pipeline

    /// <summary>
    /// Executes one command and writes the response. Returns the response length. Never throws for
    /// malformed input: every error is a TPM response. An internal error puts the TPM in failure mode.
    /// </summary>
    public int Execute(ReadOnlySpan<byte> command, Span<byte> response, in CommandContext context)
    {
        if (response.Length < HeaderSize) throw new ArgumentException("response buffer shorter than a response header", nameof(response));
        lock (_gate)
        {
            var started = Stopwatch.GetTimestamp();
            int n;
            try
            {
                n = ExecuteLocked(command, response, context);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Style rule 2: a broken invariant puts the instance in failure mode; the process lives on.
                EnterFailureMode($"{e.GetType().Name}: {e.Message}");
                n = WriteError(response, TpmRc.Failure);
            }
            LastCommandTicks = Stopwatch.GetTimestamp() - started;
            return n;
        }
    }

    /// <summary>Stopwatch ticks the last command took (for the trace log).</summary>
    public long LastCommandTicks { get; private set; }

    static int WriteError(Span<byte> response, TpmRc rc)
    {
        BinaryPrimitives.WriteUInt16BigEndian(response, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], rc.Code);
        return HeaderSize;
    }

    int ExecuteLocked(ReadOnlySpan<byte> command, Span<byte> response, in CommandContext context)
    {
        if (!IsPoweredOn) return WriteError(response, TpmRc.Failure);

        // Header (Part 3 §5.2, ms-tpm-20-ref ParseCommandHeader order: tag, size, code).
        var r = new TpmReader(command);
        if (!r.TryReadUInt16(out ushort tag) || (tag != (ushort)TpmSt.NoSessions && tag != (ushort)TpmSt.Sessions))
            return WriteError(response, TpmRc.BadTag);
        if (!r.TryReadUInt32(out uint commandSize) || commandSize != command.Length || commandSize > _command.Length)
            return WriteError(response, TpmRc.CommandSize);
        if (!r.TryReadUInt32(out uint code))
            return WriteError(response, TpmRc.CommandSize);
        var d = CommandTable.Lookup(code);
        if (d is null) return WriteError(response, TpmRc.CommandCode);

        // State gates in the reference's order: failure mode, then startup.
        if (InFailureMode && d.Code is not (TpmCc.GetTestResult or TpmCc.GetCapability))
            return WriteError(response, TpmRc.Failure);
        if (!IsStarted && d.Code != TpmCc.Startup) return WriteError(response, TpmRc.Initialize);
        if (IsStarted && d.Code == TpmCc.Startup) return WriteError(response, TpmRc.Initialize);

        // Work on a private copy: parameter decryption rewrites it in place.
        command.CopyTo(_command);
        var cmd = _command.AsSpan(0, command.Length);
        r = new TpmReader(cmd);
        r.TrySkip(HeaderSize);

        // Handles (Part 3 §5.3): type first, then existence.
        Span<uint> handles = stackalloc uint[d.Handles.Length];
        for (int i = 0; i < d.Handles.Length; i++)
        {
            if (!r.TryReadUInt32(out handles[i])) return WriteError(response, TpmRc.Insufficient.ForHandle(i + 1));
            var spec = d.Handles[i];
            var rc = HandleKinds.Check(spec.Kind, handles[i], spec.AllowNull);
            if (rc.IsError) return WriteError(response, rc.ForHandle(i + 1));
            rc = CheckHandleExists(handles[i], spec, i);
            if (rc.IsError) return WriteError(response, rc);
        }

        // Session area.
        Span<AuthSession> sessions = stackalloc AuthSession[MaxSessions];
        int sessionCount = 0;
        if (tag == (ushort)TpmSt.Sessions)
        {
            if (d.Has(CommandAttributes.NoSessions)) return WriteError(response, TpmRc.AuthContext);
            var rc = Authorization.ParseSessionArea(ref r, sessions, out sessionCount);
            if (rc.IsError) return WriteError(response, rc);
        }
        int authHandles = d.AuthHandleCount;
        if (sessionCount < authHandles) return WriteError(response, TpmRc.AuthMissing);

        int parametersStart = r.Position;
        var parameters = cmd[parametersStart..];
        Span<uint> authSessionHandles = stackalloc uint[authHandles];
        {
            var rc = Authorization.Authorize(this, d, handles, sessions[..sessionCount], cmd, parametersStart, authSessionHandles, context.Locality);
            if (rc.IsError)
            {
                CommitIfDirty();
                return WriteError(response, rc);
            }
        }

        // Response layout: header | [handle] | [parameterSize] | parameters | [sessions].
        bool withSessions = tag == (ushort)TpmSt.Sessions;
        bool withHandle = d.Has(CommandAttributes.ResponseHandle);
        int paramsOffset = HeaderSize + (withHandle ? 4 : 0) + (withSessions ? 4 : 0);
        int responseLimit = Math.Min(response.Length, Options.MaxResponseSize);
        if (responseLimit < paramsOffset) return WriteError(response, TpmRc.Failure);

        var frame = new CommandFrame
        {
            Code = d.Code,
            Locality = context.Locality,
            Handles = handles,
            Parameters = new TpmReader(parameters),
            Response = new TpmWriter(response[paramsOffset..responseLimit]),
            AuthSessions = authSessionHandles,
        };
        var result = d.Handler(this, ref frame);
        if (result.IsSuccess && frame.Response.Overflowed) result = TpmRc.Size;
        if (result.IsError)
        {
            Authorization.OnCommandFailed(this, sessions[..sessionCount]);
            CommitIfDirty();
            return WriteError(response, result);
        }

        int paramsLength = frame.Response.Position;
        var w = new TpmWriter(response[..responseLimit]);
        w.WriteUInt16(tag);
        w.WriteUInt32(0);
        w.WriteUInt32(TpmRc.Success.Code);
        if (withHandle) w.WriteUInt32(frame.ResponseHandle);
        if (withSessions) w.WriteUInt32((uint)paramsLength);
        w.Truncate(paramsOffset + paramsLength);
        if (withSessions)
        {
            var rc = Authorization.WriteResponseSessions(this, d, sessions[..sessionCount], cmd, ref w, paramsOffset, paramsLength);
            if (rc.IsError || w.Overflowed)
            {
                CommitIfDirty();
                return WriteError(response, rc.IsError ? rc : TpmRc.Size);
            }
        }
        w.PatchUInt32(2, (uint)w.Position);

        // Single commit point: permanent state reaches the store before the response leaves.
        CommitIfDirty();
        return w.Position;
    }

    void CommitIfDirty()
    {
        if (!_permanentDirty) return;
        try
        {
            CommitPermanent();
        }
        catch (IOException e)
        {
            EnterFailureMode($"permanent state could not be written: {e.Message}");
            throw;
        }
    }

    TpmRc CheckHandleExists(uint handle, HandleSpec spec, int index)
    {
        if (spec.AllowNull && handle == (uint)TpmRh.Null) return TpmRc.Success;
        var type = HandleKinds.TypeOf(handle);
        switch (type)
        {
            case TpmHt.Pcr:
                return TpmRc.Success;
            case TpmHt.Permanent:
                return Hierarchy.CheckEnabled(handle).ForHandle(index + 1);
            case TpmHt.NvIndex:
                return Nv.Exists(handle) ? TpmRc.Success : TpmRc.Handle.ForHandle(index + 1);
            case TpmHt.Transient:
            case TpmHt.Persistent:
            case TpmHt.HmacSession:
            case TpmHt.PolicySession:
                return TryGetEntity(handle, out _) || Sessions.Exists(handle) ? TpmRc.Success : TpmRc.ReferenceHandle(index);
            default:
                return TpmRc.Handle.ForHandle(index + 1);
        }
    }
}
