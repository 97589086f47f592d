using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// Loaded transient objects (Part 1 §32): keys and data objects (<see cref="KeyObject"/>) and hash and event
/// sequence objects. Object memory has <see cref="Slots"/> slots (TPM_PT_HR_TRANSIENT_MIN, the reference's MAX_LOADED_OBJECTS = 3);
/// slot i has handle TRANSIENT_FIRST + i. Every Startup flushes transient objects (Part 1 §12.2).
/// </summary>
public sealed class ObjectSubsystem : Subsystem
{
    public ObjectSubsystem(Tpm2Engine tpm)
        : base(tpm)
    {
        // Disabling a hierarchy or changing its seed flushes its objects (Part 1 §13.3, Part 3 §24.2, §24.4–§24.6).
        tpm.Hierarchy.HierarchyObjectsInvalidated += FlushHierarchy;
        tpm.Hierarchy.HierarchyReplaced += EvictHierarchy;
    }

    // ---------------------------------------------------------------- persistent objects (TPM2_EvictControl)

    /// <summary>TPM_PT_HR_PERSISTENT_MIN: persistent objects this TPM keeps.</summary>
    public const int PersistentMax = 7;

    readonly SortedDictionary<uint, KeyObject> _persistent = [];

    /// <summary>Whether a persistent handle is taken.</summary>
    public bool IsPersistent(uint handle) => _persistent.ContainsKey(handle);

    /// <summary>Room for another persistent object.</summary>
    public bool HasPersistentRoom => _persistent.Count < PersistentMax;

    /// <summary>Makes a persistent copy of a loaded object (Part 3 §28.5); the permanent state is written with the response.</summary>
    public void Persist(uint persistentHandle, KeyObject key)
    {
        _persistent[persistentHandle] = new KeyObject(key.Public, key.Sensitive, key.Hierarchy, [], key.QualifiedName);
        Tpm.MarkPermanentDirty();
    }

    /// <summary>Removes a persistent object.</summary>
    public void Evict(uint persistentHandle)
    {
        if (_persistent.Remove(persistentHandle)) Tpm.MarkPermanentDirty();
    }

    void EvictHierarchy(uint hierarchy)
    {
        foreach (var h in _persistent.Where(p => p.Value.Hierarchy == hierarchy).Select(p => p.Key).ToList()) Evict(h);
    }

    /// <summary>An object as the state blobs and contexts carry it: marshalled public and sensitive areas, Qualified Name.</summary>
    static void WriteAreas(StateWriter w, KeyObject key)
    {
        var buffer = new byte[Math.Max(TpmtPublic.MaxSize, TpmtSensitive.MaxSize)];
        var m = new TpmWriter(buffer);
        key.Public.Marshal(ref m);
        w.Bytes(m.Written);
        m = new TpmWriter(buffer);
        key.Sensitive.Marshal(ref m);
        w.Bytes(m.Written);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
        w.Bytes(key.QualifiedName);
    }

    /// <summary>Reads what <see cref="WriteAreas"/> wrote.</summary>
    static KeyObject ReadAreas(StateReader r, uint hierarchy)
    {
        var p = new TpmReader(r.Bytes(TpmtPublic.MaxSize));
        var q = new TpmReader(r.Bytes(TpmtSensitive.MaxSize));
        var qualifiedName = r.Bytes(2 + TpmHash.MaxDigestSize);
        if (TpmtPublic.Unmarshal(ref p, out var pub, allowNull: true).IsError || TpmtSensitive.Unmarshal(ref q, out var sensitive).IsError
            || !p.AtEnd || !q.AtEnd)
            throw new StateFormatException("an object's public or sensitive area does not parse");
        return new KeyObject(pub, sensitive, hierarchy, [], qualifiedName);
    }

    const byte PermanentVersion = 1;

    public override void WritePermanent(StateWriter w)
    {
        w.U8(PermanentVersion);
        w.U32((uint)_persistent.Count);
        // Every commit of permanent state (an NV_Write...) comes here: nothing is allocated when nothing is persistent.
        if (_persistent.Count == 0) return;
        foreach (var (handle, key) in _persistent)
        {
            w.U32(handle);
            w.U32(key.Hierarchy);
            WriteAreas(w, key);
        }
    }

    public override void ReadPermanent(StateReader r)
    {
        _persistent.Clear();
        // State written before persistent objects existed has an empty section.
        if (r.SectionAtEnd) return;
        if (r.U8() != PermanentVersion) throw new StateFormatException("unknown object permanent section version");
        uint count = r.U32();
        if (count > PersistentMax) throw new StateFormatException($"{count} persistent objects, more than {PersistentMax}");
        for (uint i = 0; i < count; i++)
        {
            uint handle = r.U32();
            uint hierarchy = r.U32();
            if (HandleKinds.TypeOf(handle) != TpmHt.Persistent) throw new StateFormatException($"0x{handle:x8} is not a persistent handle");
            _persistent[handle] = ReadAreas(r, hierarchy);
        }
    }

    /// <summary>Object slots (MAX_LOADED_OBJECTS).</summary>
    public const int Slots = 3;

    /// <summary>TRANSIENT_FIRST (Part 2 §7.5).</summary>
    public const uint TransientFirst = 0x80000000;

    // A slot holds a SequenceObject or a KeyObject.
    readonly object?[] _slots = new object?[Slots];

    // Flushed sequence objects kept for reuse (hash contexts are costly to create); at most one per slot.
    readonly SequenceObject?[] _spare = new SequenceObject?[Slots];

    public override string Tag => "OBJ ";

    /// <summary>Loads a new sequence object; returns its handle, or null when object memory is full (TPM_RC_OBJECT_MEMORY).</summary>
    public uint? AddSequence(SequenceObject sequence)
    {
        for (int i = 0; i < Slots; i++)
        {
            if (_slots[i] is not null) continue;
            _slots[i] = sequence;
            return TransientFirst + (uint)i;
        }
        return null;
    }

    /// <summary>
    /// Loads a new, empty sequence object (HashSequenceStart); returns its handle, or null when object
    /// memory is full (TPM_RC_OBJECT_MEMORY). Reuses a flushed object of the same algorithm if there is one.
    /// </summary>
    public uint? StartSequence(TpmAlgId hashAlg, ReadOnlySpan<byte> authValue)
    {
        int slot = Array.IndexOf(_slots, null);
        if (slot < 0) return null;
        SequenceObject? sequence = null;
        for (int i = 0; i < Slots; i++)
        {
            if (_spare[i] is { } s && s.HashAlg == hashAlg)
            {
                _spare[i] = null;
                s.Reuse(authValue);
                sequence = s;
                break;
            }
        }
        _slots[slot] = sequence ?? new SequenceObject(hashAlg, authValue);
        return TransientFirst + (uint)slot;
    }

    /// <summary>The sequence object at a handle, or null if the handle is not a loaded sequence.</summary>
    public SequenceObject? GetSequence(uint handle)
    {
        uint i = handle - TransientFirst;
        return i < Slots ? _slots[i] as SequenceObject : null;
    }

    /// <summary>The key or data object at a handle, or null if the handle is not a loaded one.</summary>
    public KeyObject? GetKey(uint handle)
    {
        if (HandleKinds.TypeOf(handle) == TpmHt.Persistent)
        {
            // A persistent object of a disabled hierarchy is not there (Part 1 §13.3).
            return _persistent.TryGetValue(handle, out var p) && Tpm.Hierarchy.IsEnabled(p.Hierarchy) ? p : null;
        }
        uint i = handle - TransientFirst;
        return i < Slots ? _slots[i] as KeyObject : null;
    }

    /// <summary>Whether a slot is free (TPM_RC_OBJECT_MEMORY otherwise).</summary>
    public bool HasFreeSlot => Array.IndexOf(_slots, null) >= 0;

    /// <summary>Loads a key or data object; returns its handle, or null when object memory is full (TPM_RC_OBJECT_MEMORY).</summary>
    public uint? AddKey(KeyObject key)
    {
        int slot = Array.IndexOf(_slots, null);
        if (slot < 0) return null;
        _slots[slot] = key;
        return TransientFirst + (uint)slot;
    }

    /// <summary>Flushes every object of a hierarchy that has been disabled or whose seed changed (Part 1 §13.3).</summary>
    public void FlushHierarchy(uint hierarchy)
    {
        for (int i = 0; i < Slots; i++) if (_slots[i] is KeyObject k && k.Hierarchy == hierarchy) _slots[i] = null;
    }

    /// <summary>Removes a loaded object (TPM2_FlushContext, completion of a sequence). False if none is loaded there.</summary>
    public bool Flush(uint handle)
    {
        uint i = handle - TransientFirst;
        if (i >= Slots || _slots[i] is not { } o) return false;
        _slots[i] = null;
        if (o is not SequenceObject s) return true;
        int spare = Array.IndexOf(_spare, null);
        if (spare >= 0)
        {
            s.Reuse([]);
            _spare[spare] = s;
        }
        else
        {
            s.Dispose();
        }
        return true;
    }

    void FlushAll()
    {
        for (int i = 0; i < Slots; i++) Flush(TransientFirst + (uint)i);
    }

    public override bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        if (GetKey(handle) is { } k)
        {
            // USER role with userWithAuth CLEAR needs a policy session (Part 1 §19.7.3); noDA exempts the object
            // from dictionary-attack lockout (Part 1 §19.8).
            entity = new AuthEntity(k.Sensitive.AuthValue.ToArray(), k.Public.AuthPolicy.ToArray(), k.Public.NameAlg,
                DaProtected: !k.Has(TpmaObject.NoDA), Name: k.Name, PolicyRequired: !k.Has(TpmaObject.UserWithAuth));
            return true;
        }
        var s = GetSequence(handle);
        if (s is null)
        {
            entity = default;
            return false;
        }
        // A sequence object's nameAlg is TPM_ALG_NULL, so its Name is empty (Part 1 §16); it is not DA-protected.
        entity = new AuthEntity(s.AuthValue, [], TpmAlgId.Null, DaProtected: false, Name: []);
        return true;
    }

    public override void ListHandles(TpmHt type, List<uint> handles)
    {
        if (type == TpmHt.Persistent)
        {
            foreach (var (h, k) in _persistent) if (Tpm.Hierarchy.IsEnabled(k.Hierarchy)) handles.Add(h);
            return;
        }
        if (type != TpmHt.Transient) return;
        for (int i = 0; i < Slots; i++) if (_slots[i] is not null) handles.Add(TransientFirst + (uint)i);
    }

    public override bool TryGetProperty(TpmPt property, out uint value)
    {
        value = 0;
        if (property != TpmPt.HrTransientAvail) return false;
        foreach (var s in _slots) if (s is null) value++;
        return true;
    }

    // ---------------------------------------------------------------- contexts of objects

    /// <summary>Part 3 §28.2: the savedHandle of a transient object's context.</summary>
    public const uint SavedObjectHandle = TransientFirst;

    const byte ObjectContextVersion = 1;

    ulong _contextSequence;

    /// <summary>
    /// TPM2_ContextSave of a loaded key or data object (Part 1 §30.3): the object stays loaded; its public and
    /// sensitive areas go out encrypted and integrity-protected under its hierarchy's proof and the per-reset value,
    /// so the context loads again after a Resume or a Restart but not after a TPM Reset (as swtpm).
    /// TPM_RC_HANDLE (handle 1) for what is not a key or data object; TPM_RC_SIZE when it does not fit.
    /// </summary>
    public TpmRc SaveContext(uint handle, int room, ref TpmsContext context)
    {
        if (GetKey(handle) is not { } key) return TpmRc.Handle.ForHandle(1);
        var w = new StateWriter();
        w.U8(ObjectContextVersion);
        WriteAreas(w, key);
        w.Bool(key.IsPublicOnly);
        var state = w.ToArray();

        ulong sequence = ++_contextSequence;
        var proof = Tpm.Hierarchy.GetProof(key.Hierarchy);
        ContextProtection.Crypt(proof, sequence, SavedObjectHandle, state, encrypt: true);
        var integrity = ContextProtection.Integrity(proof, Tpm.Sessions.ResetValue, sequence, SavedObjectHandle, key.Hierarchy, state);
        context.Sequence = sequence;
        context.SavedHandle = SavedObjectHandle;
        context.Hierarchy = key.Hierarchy;
        var blob = new TpmWriter(context.ContextBlob.Buffer);
        blob.WriteSized16(integrity);
        blob.WriteBytes(state);
        if (blob.Overflowed || 8 + 4 + 4 + 2 + blob.Position > room) return TpmRc.Size;
        context.ContextBlob.Size = (ushort)blob.Position;
        return TpmRc.Success;
    }

    /// <summary>
    /// TPM2_ContextLoad of an object context: TPM_RC_INTEGRITY (parameter 1) for a blob this TPM did not make under
    /// that hierarchy's current proof, or that was changed; TPM_RC_OBJECT_MEMORY when no slot is free.
    /// </summary>
    public TpmRc LoadContext(in TpmsContext context, out uint loadedHandle)
    {
        loadedHandle = 0;
        var r = new TpmReader(context.ContextBlob.Span);
        if (r.ReadSized16(out var integrity, TpmHash.MaxDigestSize).IsError) return TpmRc.Integrity.ForParameter(1);
        var state = r.RemainingSpan.ToArray();
        var proof = Tpm.Hierarchy.GetProof(context.Hierarchy);
        var expected = ContextProtection.Integrity(proof, Tpm.Sessions.ResetValue, context.Sequence, context.SavedHandle, context.Hierarchy, state);
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(integrity, expected)) return TpmRc.Integrity.ForParameter(1);
        if (!HasFreeSlot) return TpmRc.ObjectMemory;
        ContextProtection.Crypt(proof, context.Sequence, context.SavedHandle, state, encrypt: false);
        KeyObject key;
        try
        {
            var s = new StateReader(state);
            if (s.U8() != ObjectContextVersion) throw new StateFormatException("unknown object context version");
            var areas = ReadAreas(s, context.Hierarchy);
            key = new KeyObject(areas.Public, areas.Sensitive, context.Hierarchy, [], areas.QualifiedName) { IsPublicOnly = s.Bool() };
        }
        catch (StateFormatException)
        {
            // Integrity held, so this blob is ours: not parsing is a broken invariant.
            throw new InvalidOperationException("an object context that passed its integrity check does not parse");
        }
        loadedHandle = AddKey(key)!.Value;
        if (key.Name.Length == 0) key.Name = KeyObject.HandleName(loadedHandle);
        return TpmRc.Success;
    }

    const byte VolatileVersion = 1;

    // The state of a running hash cannot be exported from the platform's hash implementation, so a
    // volatile image carries no sequence objects: they would be flushed by the next Startup anyway.
    public override void WriteVolatile(StateWriter w) => w.U8(VolatileVersion);

    public override void ReadVolatile(StateReader r)
    {
        if (r.U8() != VolatileVersion) throw new StateFormatException("unknown object volatile section version");
        FlushAll();
    }

    public override void OnInit() => FlushAll();

    public override void OnStartup(StartupKind kind) => FlushAll();
}
