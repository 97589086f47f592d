using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>One defined NV index: its public area (the generated TPMS_NV_PUBLIC), authValue and data.</summary>
public sealed class NvIndex
{
    TpmsNvPublic _public;

    public NvIndex(in TpmsNvPublic pub, byte[] authValue, byte[] data)
    {
        _public = pub;
        AuthValue = authValue;
        Data = data;
        AuthPolicy = pub.AuthPolicy.ToArray();
    }

    /// <summary>The public area as defined, with the attributes the TPM has set since (WRITTEN, the locks).</summary>
    public ref readonly TpmsNvPublic Public => ref _public;

    /// <summary>
    /// authPolicy as an array for <see cref="AuthEntity"/>, made once: no command changes the policy of an index
    /// (Part 3 §31), and every authorization of the index asks for it.
    /// </summary>
    public byte[] AuthPolicy { get; }

    public byte[] AuthValue { get; set; }
    public byte[] Data { get; }

    public uint Handle => _public.NvIndex;
    public TpmaNv Attributes => _public.Attributes;
    public TpmNt Type => _public.Attributes.NvType();
    public bool Has(TpmaNv a) => (_public.Attributes & a) != 0;

    /// <summary>Changes the attributes (a new public area, so a new Name).</summary>
    public void SetAttributes(TpmaNv a) => _public.Attributes = a;

    byte[]? _name;
    TpmaNv _nameAttributes;

    /// <summary>
    /// The Name computed with these effective attributes, if it is the last one computed. Only the attributes of
    /// an index change after its definition, so they alone tell whether a Name is still its Name.
    /// </summary>
    public byte[]? CachedName(TpmaNv effectiveAttributes) =>
        _name is not null && _nameAttributes == effectiveAttributes ? _name : null;

    public byte[] CacheName(TpmaNv effectiveAttributes, byte[] name)
    {
        _nameAttributes = effectiveAttributes;
        return _name = name;
    }

    /// <summary>Bytes of NV this index takes (public area, auth, data, bookkeeping).</summary>
    public int Footprint => _public.MarshalledSize() + AuthValue.Length + Data.Length + 16;
}

/// <summary>
/// NV indices (Part 1 §37, Part 3 §31): definition, access checks from TPMA_NV, the STCLEAR
/// attribute resets of Startup(CLEAR), and the TPM-wide highest counter value that survives
/// TPM2_Clear and seeds new counters. Everything is permanent (written at the command's commit);
/// only the global write lock lives in state-clear data.
/// </summary>
public sealed class NvSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>MAX_NV_INDEX_SIZE: the largest dataSize of an ordinary index (TPM_PT_NV_INDEX_MAX).</summary>
    public const int IndexMax = 2048;

    /// <summary>MAX_NV_BUFFER_SIZE: the largest TPM2B_MAX_NV_BUFFER (TPM_PT_NV_BUFFER_MAX).</summary>
    public const int BufferMax = 1024;

    /// <summary>Bytes of NV available for indices (the reference's user NV area is of this order).</summary>
    public const int SpaceLimit = 64 * 1024;

    /// <summary>MAX_ORDERLY_COUNT: how far an ORDERLY counter in RAM may be ahead of its NV copy.</summary>
    public const ulong MaxOrderlyCount = 0xFF;

    public override string Tag => "NV  ";

    readonly SortedDictionary<uint, NvIndex> _indices = [];

    // The indices in handle order as an array, rebuilt after a change: walking a SortedDictionary
    // allocates its enumerator's stack, and state commits and GetCapability walk the indices often.
    NvIndex[]? _inOrder;

    NvIndex[] InOrder => _inOrder ??= [.. _indices.Values];
    ulong _maxCounter;

    /// <summary>Set by TPM2_NV_GlobalWriteLock until the next Startup(CLEAR).</summary>
    public bool GlobalLock { get; private set; }

    public IReadOnlyCollection<NvIndex> Indices => InOrder;

    public ulong MaxCounter => _maxCounter;

    int UsedSpace
    {
        get
        {
            int n = 0;
            foreach (var i in InOrder) n += i.Footprint;
            return n;
        }
    }

    public override void Manufacture()
    {
        _indices.Clear();
        _inOrder = null;
        _maxCounter = 0;
    }

    public override void WritePermanent(StateWriter w)
    {
        w.U64(_maxCounter);
        w.U32((uint)_indices.Count);
        foreach (var i in InOrder)
        {
            w.U32(i.Public.NvIndex);
            w.U16((ushort)i.Public.NameAlg);
            w.U32((uint)i.Public.Attributes);
            w.Bytes(i.Public.AuthPolicy.Span);
            w.U16(i.Public.DataSize);
            w.Bytes(i.AuthValue);
            w.Bytes(i.Data);
        }
    }

    public override void ReadPermanent(StateReader r)
    {
        _indices.Clear();
        _inOrder = null;
        _maxCounter = r.U64();
        uint n = r.U32();
        if (n > SpaceLimit) throw new StateFormatException($"{n} NV indices");
        for (uint k = 0; k < n; k++)
        {
            uint handle = r.U32();
            var alg = (TpmAlgId)r.U16();
            var attrs = (TpmaNv)r.U32();
            var policy = r.Bytes(TpmHash.MaxDigestSize);
            ushort size = r.U16();
            var auth = r.Bytes(TpmHash.MaxDigestSize);
            var data = r.Bytes(IndexMax);
            if ((handle >> 24) != (uint)TpmHt.NvIndex || !TpmHash.IsImplemented(alg) || data.Length != size || !_indices.TryAdd(handle, new NvIndex(new TpmsNvPublic { NvIndex = handle, NameAlg = alg, Attributes = attrs, AuthPolicy = Tpm2bDigest.From(policy), DataSize = size }, auth, data)))
                throw new StateFormatException($"bad NV index 0x{handle:X8}");
        }
    }

    public override void WriteVolatile(StateWriter w) => w.Bool(GlobalLock);

    public override void ReadVolatile(StateReader r) => GlobalLock = r.Bool();

    public override void OnStartup(StartupKind kind)
    {
        if (kind == StartupKind.Resume) return;
        // Part 3 §31.1 / Part 2 TPMA_NV: what Startup(CLEAR) (TPM Reset or Restart) undoes.
        GlobalLock = false;
        bool disorderly = Tpm.Engine.LastShutdownWasDisorderly;
        bool changed = false;
        foreach (var i in InOrder)
        {
            var a = i.Attributes;
            // WRITE_STCLEAR locks end; a WRITEDEFINE lock on an index never written does not stick.
            if (i.Has(TpmaNv.WriteStClear) || (i.Has(TpmaNv.WriteDefine) && !i.Has(TpmaNv.Written))) a &= ~TpmaNv.WriteLocked;
            if (i.Has(TpmaNv.ClearStClear)) a &= ~TpmaNv.Written;
            a &= ~TpmaNv.ReadLocked;
            if (kind == StartupKind.Reset && i.Has(TpmaNv.Orderly))
            {
                // Part 2 TPMA_NV_ORDERLY: the state of an orderly index lives in RAM. A TPM Reset loses
                // it for ordinary/bits/extend indices (swtpm reports them unwritten again); a counter
                // must never go back, so after a power loss it jumps past what RAM may have held
                // (the reference's MAX_ORDERLY_COUNT, 255: value | 0xFF, as swtpm shows).
                if (i.Type != TpmNt.Counter) a &= ~TpmaNv.Written;
                else if (i.Has(TpmaNv.Written) && disorderly) WriteUInt64(i, ReadUInt64(i) | MaxOrderlyCount);
            }
            if (a != i.Attributes)
            {
                i.SetAttributes(a);
                changed = true;
            }
        }
        if (changed) Tpm.MarkPermanentDirty();
    }

    /// <summary>The index exists and is accessible (its hierarchy enabled: Part 3 §31.1, NvIndexIsAccessible).</summary>
    public bool Exists(uint handle) => TryGetAccessible(handle, out _);

    public bool TryGetAccessible(uint handle, out NvIndex index)
    {
        if (!_indices.TryGetValue(handle, out index!)) return false;
        return index.Has(TpmaNv.PlatformCreate) ? Tpm.Hierarchy.PhEnableNv : Tpm.Hierarchy.ShEnable;
    }

    public bool IsDefined(uint handle) => _indices.ContainsKey(handle);

    /// <summary>Attributes as reported and enforced: the global lock shows as WRITELOCKED on GLOBALLOCK indices.</summary>
    public TpmaNv EffectiveAttributes(NvIndex i)
        => GlobalLock && i.Has(TpmaNv.GlobalLock) ? i.Attributes | TpmaNv.WriteLocked : i.Attributes;

    public TpmsNvPublic EffectivePublic(NvIndex i)
    {
        var p = i.Public;
        p.Attributes = EffectiveAttributes(i);
        return p;
    }

    /// <summary>
    /// The index's Name (Part 1 §16) for its effective attributes; kept on the index until its public area
    /// or effective attributes change (every authorization of the index asks for it). Shared: do not modify.
    /// </summary>
    public byte[] GetName(NvIndex i)
    {
        var attributes = EffectiveAttributes(i);
        return i.CachedName(attributes) ?? i.CacheName(attributes, EffectivePublic(i).ComputeName());
    }

    public override bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        if (!_indices.TryGetValue(handle, out var i))
        {
            entity = default;
            return false;
        }
        // Part 1 §37 (PIN Pass and PIN Fail indices): the authValue may be used only while pinCount < pinLimit (and once
        // the parameters have been written); otherwise TPM_RC_AUTH_UNAVAILABLE (as swtpm answers).
        bool authValueAllowed = i.Type is not (TpmNt.PinPass or TpmNt.PinFail)
            || (i.Has(TpmaNv.Written) && PinCount(i) < PinLimit(i));
        entity = new AuthEntity(i.AuthValue, i.AuthPolicy, i.Public.NameAlg, !i.Has(TpmaNv.NoDa), GetName(i), AuthValueAllowed: authValueAllowed);
        return true;
    }

    static uint PinCount(NvIndex i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(i.Data);
    static uint PinLimit(NvIndex i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(i.Data.AsSpan(4));

    void SetPinCount(NvIndex i, uint count)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(i.Data, count);
        Tpm.MarkPermanentDirty();
    }

    // pinCount of the index whose authValue is being checked, before the attempt (see BeginAuthValueCheck).
    uint _pinCountBefore;

    /// <summary>
    /// An authValue check of an index is about to be made (Part 2 TPMS_NV_PIN_COUNTER_PARAMETERS:
    /// pinCount, pinLimit): applies the effect of a success now — PIN_PASS counts a successful authorization,
    /// PIN_FAIL resets pinCount — and <see cref="AuthValueCheckFailed"/> replaces it by the effect of a
    /// failure (PIN_FAIL counts it; PIN_PASS is unchanged). swtpm behaves the same.
    /// </summary>
    public void BeginAuthValueCheck(uint handle)
    {
        if (!_indices.TryGetValue(handle, out var i) || i.Type is not (TpmNt.PinPass or TpmNt.PinFail) || !i.Has(TpmaNv.Written)) return;
        _pinCountBefore = PinCount(i);
        SetPinCount(i, i.Type == TpmNt.PinPass ? _pinCountBefore + 1 : 0);
    }

    public void AuthValueCheckFailed(uint handle)
    {
        if (!_indices.TryGetValue(handle, out var i) || i.Type is not (TpmNt.PinPass or TpmNt.PinFail) || !i.Has(TpmaNv.Written)) return;
        SetPinCount(i, i.Type == TpmNt.PinFail ? _pinCountBefore + 1 : _pinCountBefore);
    }

    public override void ListHandles(TpmHt type, List<uint> handles)
    {
        if (type == TpmHt.NvIndex) handles.AddRange(_indices.Keys);
    }

    static readonly int CounterFootprint =
        new TpmsNvPublic { NvIndex = 0x01000000, NameAlg = TpmAlgId.Sha256, AuthPolicy = Tpm2bDigest.From(new byte[32]), DataSize = 8 }.MarshalledSize() + 32 + 8 + 16;

    public override bool TryGetProperty(TpmPt property, out uint value)
    {
        switch (property)
        {
            case TpmPt.HrNvIndex: value = (uint)_indices.Count; return true;
            case TpmPt.NvCounters:
                value = 0;
                foreach (var i in InOrder) if (i.Type == TpmNt.Counter) value++;
                return true;
            case TpmPt.NvCountersAvail: value = (uint)(Math.Max(0, SpaceLimit - UsedSpace) / CounterFootprint); return true;
        }
        value = 0;
        return false;
    }

    // ---------------------------------------------------------------- changes made by commands

    /// <summary>Adds an index (the caller made the checks of Part 3 §31.3); TPM_RC_NV_SPACE if it does not fit.</summary>
    public TpmRc Define(in TpmsNvPublic pub, byte[] auth)
    {
        // Unwritten NV reads back as erased flash, 0xFF (what swtpm returns around a partial write).
        var data = new byte[pub.DataSize];
        data.AsSpan().Fill(0xFF);
        var index = new NvIndex(pub, auth, data);
        if (UsedSpace + index.Footprint > SpaceLimit) return TpmRc.NvSpace;
        _indices.Add(pub.NvIndex, index);
        _inOrder = null;
        Tpm.MarkPermanentDirty();
        return TpmRc.Success;
    }

    /// <summary>Removes an index; a counter's value raises the TPM-wide max counter (Part 1 §37.2.3).</summary>
    public void Undefine(uint handle)
    {
        if (!_indices.Remove(handle, out var i)) return;
        _inOrder = null;
        if (i.Type == TpmNt.Counter && i.Has(TpmaNv.Written)) _maxCounter = Math.Max(_maxCounter, ReadUInt64(i));
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(i.Data);
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPM2_Clear: deletes the indices the owner created (TPMA_NV_PLATFORMCREATE clear).</summary>
    public void OnClear()
    {
        foreach (var i in InOrder) if (!i.Has(TpmaNv.PlatformCreate)) Undefine(i.Handle);
    }

    public void SetGlobalLock() => GlobalLock = true;

    public void Changed() => Tpm.MarkPermanentDirty();

    public static ulong ReadUInt64(NvIndex i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(i.Data);

    public void WriteUInt64(NvIndex i, ulong v)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(i.Data, v);
        MarkWritten(i);
    }

    public void MarkWritten(NvIndex i)
    {
        i.SetAttributes(i.Attributes | TpmaNv.Written);
        Tpm.MarkPermanentDirty();
    }

    static bool IsPolicySession(uint session) => (session >> 24) == (uint)TpmHt.PolicySession;

    /// <summary>
    /// Read access (Part 3 §31.2, NvReadAccessChecks): READLOCKED → TPM_RC_NV_LOCKED; the authorizing
    /// handle must match an xxxREAD attribute (owner, platform, or the index itself with AUTHREAD for
    /// password/HMAC or POLICYREAD for a policy session) → TPM_RC_NV_AUTHORIZATION; then unwritten →
    /// TPM_RC_NV_UNINITIALIZED.
    /// </summary>
    public TpmRc CheckRead(uint authHandle, uint authSession, NvIndex i, bool requireWritten = true)
    {
        var a = EffectiveAttributes(i);
        if ((a & TpmaNv.ReadLocked) != 0) return TpmRc.NvLocked;
        var rc = CheckRole(authHandle, authSession, i, a, TpmaNv.OwnerRead, TpmaNv.PpRead, TpmaNv.AuthRead, TpmaNv.PolicyRead);
        if (rc.IsError) return rc;
        if (requireWritten && (a & TpmaNv.Written) == 0) return TpmRc.NvUninitialized;
        return TpmRc.Success;
    }

    /// <summary>Write access (NvWriteAccessChecks): WRITELOCKED (or the global lock) → TPM_RC_NV_LOCKED, then the xxxWRITE attribute of the authorizing handle.</summary>
    public TpmRc CheckWrite(uint authHandle, uint authSession, NvIndex i)
    {
        var a = EffectiveAttributes(i);
        if ((a & TpmaNv.WriteLocked) != 0) return TpmRc.NvLocked;
        return CheckRole(authHandle, authSession, i, a, TpmaNv.OwnerWrite, TpmaNv.PpWrite, TpmaNv.AuthWrite, TpmaNv.PolicyWrite);
    }

    static TpmRc CheckRole(uint authHandle, uint authSession, NvIndex i, TpmaNv a, TpmaNv owner, TpmaNv platform, TpmaNv auth, TpmaNv policy)
    {
        TpmaNv needed = authHandle switch
        {
            (uint)TpmRh.Owner => owner,
            (uint)TpmRh.Platform => platform,
            _ when authHandle == i.Handle => IsPolicySession(authSession) ? policy : auth,
            _ => TpmaNv.None,
        };
        return needed != TpmaNv.None && (a & needed) != 0 ? TpmRc.Success : TpmRc.NvAuthorization;
    }
}
