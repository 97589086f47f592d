using System.Numerics;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// PCR banks (Part 1 §17) with the attributes of the PC Client Platform TPM Profile: 24 PCRs in each of
/// the SHA-1, SHA-256, SHA-384 and SHA-512 banks. The allocation in effect ("active") changes only at a
/// TPM Reset, to the allocation last requested by TPM2_PCR_Allocate ("allocated"); both are permanent.
/// PCR values, pcrUpdateCounter and the PCR authValues are RAM; the PCR policies are permanent (Part 1
/// §17.7: the policy of a PCR group is set with platform authorization and persists).
/// </summary>
public sealed class PcrSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>The implemented banks, in the order of TpmHash.Implemented (HASH_COUNT = 4).</summary>
    public static IReadOnlyList<TpmAlgId> Banks => TpmHash.Implemented;

    public const int PcrCount = Pcrs.PcrCount;

    /// <summary>PCR_SELECT_MAX: octets needed for all implemented PCRs.</summary>
    public const int SelectSize = (PcrCount + 7) / 8;

    const uint AllPcrs = (1u << PcrCount) - 1;

    // PC Client Platform TPM Profile, PCR attributes (bit n = locality n), as the reference and swtpm answer.
    static readonly byte[] ExtendLocalities =
        [0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F,
         0x1F, 0x1C, 0x1C, 0x0C, 0x0E, 0x04, 0x04, 0x1F];

    static readonly byte[] ResetLocalities =
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
         0x0F, 0x10, 0x10, 0x10, 0x14, 0x14, 0x14, 0x0F];

    /// <summary>PCRs saved by TPM2_Shutdown(STATE) and restored by a TPM Resume: 0–15.</summary>
    public const uint StateSaveMask = 0x00FFFF;

    /// <summary>PCRs reset by the DRTM sequence (_TPM_Hash_Start): 17–22; their Startup value is all ones.</summary>
    public const uint DrtmResetMask = 0x7E0000;

    /// <summary>PCRs whose changes do not increment pcrUpdateCounter (the reference's TCB group): 16, 21–23.</summary>
    public const uint NoIncrementMask = 0xE10000;

    /// <summary>PCRs of the one authorization group and the one policy group (PCR 20–22, as the reference).</summary>
    public const uint GroupMask = 0x700000;

    readonly uint[] _allocated = new uint[4];
    readonly uint[] _active = new uint[4];
    readonly byte[][][] _values = NewValues();
    byte[] _groupAuth = [];
    byte[] _groupPolicy = [];
    TpmAlgId _groupPolicyAlg = TpmAlgId.Null;

    public override string Tag => "PCR ";

    /// <summary>
    /// pcrUpdateCounter (Part 3 §22.4): reset only by TPM Reset, kept across Restart and Resume, and
    /// incremented for every PCR outside the no-increment group that changes, including the PCRs a
    /// Startup initialises (as libtpms counts: 20 after a TPM Reset).
    /// </summary>
    public uint UpdateCounter { get; private set; }

    /// <summary>pcrUpdateCounter at the last Shutdown(STATE), kept in permanent state for a TPM Restart.</summary>
    uint _savedUpdateCounter;

    /// <summary>True when TPM2_PCR_Allocate changed the allocation and no TPM Reset applied it yet.</summary>
    public bool AllocationPending => !_allocated.AsSpan().SequenceEqual(_active);

    static byte[][][] NewValues()
    {
        var v = new byte[4][][];
        for (int b = 0; b < 4; b++)
        {
            v[b] = new byte[PcrCount][];
            for (int p = 0; p < PcrCount; p++) v[b][p] = new byte[TpmHash.DigestSize(TpmHash.Implemented[b])];
        }
        return v;
    }

    public static int BankIndex(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => 0,
        TpmAlgId.Sha256 => 1,
        TpmAlgId.Sha384 => 2,
        TpmAlgId.Sha512 => 3,
        _ => -1,
    };

    // ---------------------------------------------------------------- allocation

    /// <summary>The PCRs of a bank in the allocation in effect (bit n = PCR n).</summary>
    public uint ActiveMask(TpmAlgId bank) => BankIndex(bank) is int i and >= 0 ? _active[i] : 0;

    /// <summary>The PCRs of a bank in the allocation that the next TPM Reset brings.</summary>
    public uint AllocatedMask(TpmAlgId bank) => BankIndex(bank) is int i and >= 0 ? _allocated[i] : 0;

    /// <summary>Records a new allocation (already validated) to apply at the next TPM Reset.</summary>
    public void SetAllocation(ReadOnlySpan<uint> masks)
    {
        for (int i = 0; i < 4; i++) _allocated[i] = masks[i] & AllPcrs;
        Tpm.MarkPermanentDirty();
    }

    // ---------------------------------------------------------------- attributes

    public static bool IsExtendAllowed(int pcr, byte locality) => locality <= 4 && (ExtendLocalities[pcr] & (1 << locality)) != 0;

    public static bool IsResetAllowed(int pcr, byte locality) => locality <= 4 && (ResetLocalities[pcr] & (1 << locality)) != 0;

    /// <summary>The PCRs that have a TPM_PT_PCR property (Part 2 §6.14), as a bit mask; null if the tag is not defined.</summary>
    public static uint? PropertyMask(TpmPtPcr tag)
    {
        static uint ByLocality(byte[] table, int locality)
        {
            uint m = 0;
            for (int p = 0; p < PcrCount; p++) if ((table[p] & (1 << locality)) != 0) m |= 1u << p;
            return m;
        }
        return tag switch
        {
            TpmPtPcr.Save => StateSaveMask,
            TpmPtPcr.ExtendL0 => ByLocality(ExtendLocalities, 0),
            TpmPtPcr.ResetL0 => ByLocality(ResetLocalities, 0),
            TpmPtPcr.ExtendL1 => ByLocality(ExtendLocalities, 1),
            TpmPtPcr.ResetL1 => ByLocality(ResetLocalities, 1),
            TpmPtPcr.ExtendL2 => ByLocality(ExtendLocalities, 2),
            TpmPtPcr.ResetL2 => ByLocality(ResetLocalities, 2),
            TpmPtPcr.ExtendL3 => ByLocality(ExtendLocalities, 3),
            TpmPtPcr.ResetL3 => ByLocality(ResetLocalities, 3),
            TpmPtPcr.ExtendL4 => ByLocality(ExtendLocalities, 4),
            TpmPtPcr.ResetL4 => ByLocality(ResetLocalities, 4),
            TpmPtPcr.NoIncrement => NoIncrementMask,
            TpmPtPcr.DrtmReset => DrtmResetMask,
            TpmPtPcr.Policy => GroupMask,
            TpmPtPcr.Auth => GroupMask,
            _ => null,
        };
    }

    public static bool InAuthGroup(int pcr) => pcr is >= 0 and < PcrCount && (GroupMask & (1u << pcr)) != 0;

    public static bool InPolicyGroup(int pcr) => InAuthGroup(pcr);

    // ---------------------------------------------------------------- values

    /// <summary>The current value of a PCR in an active bank; empty if the PCR is not allocated there.</summary>
    public ReadOnlySpan<byte> Read(TpmAlgId bank, int pcr)
    {
        int b = BankIndex(bank);
        if (b < 0 || pcr is < 0 or >= PcrCount || (_active[b] & (1u << pcr)) == 0) return default;
        return _values[b][pcr];
    }

    /// <summary>
    /// Extends a digest into a PCR of one bank: PCR := H(PCR || digest) (Part 1 §17.2). Banks not in the
    /// allocation in effect, or where the PCR is not allocated, are skipped. Returns true if it changed.
    /// </summary>
    public bool Extend(int pcr, TpmAlgId bank, ReadOnlySpan<byte> digest)
    {
        int b = BankIndex(bank);
        if (b < 0 || (_active[b] & (1u << pcr)) == 0) return false;
        var value = _values[b][pcr];
        Tpm.Hashes.Digest(bank, value, digest, value);
        return true;
    }

    /// <summary>Call once per command that changed a PCR: pcrUpdateCounter counts changes outside the no-increment group.</summary>
    public void Changed(int pcr)
    {
        if ((NoIncrementMask & (1u << pcr)) == 0) UpdateCounter++;
    }

    /// <summary>TPM2_PCR_Reset: the PCR becomes zero in every bank (Part 3 §22.8).</summary>
    public void ResetPcr(int pcr)
    {
        for (int b = 0; b < 4; b++) Array.Clear(_values[b][pcr]);
        Changed(pcr);
    }

    // An H-CRTM measurement (_TPM_Hash_End before TPM2_Startup), applied to PCR 0 by the next Startup.
    IReadOnlyDictionary<TpmAlgId, byte[]>? _hcrtmDigests;

    /// <summary>True while an H-CRTM measurement waits for TPM2_Startup.</summary>
    public bool HcrtmPending => _hcrtmDigests is not null;

    /// <summary>
    /// _TPM_Hash_End (Part 3 §6.5). After Startup this is a DRTM event: the dynamic PCRs 17–22 reset to zero
    /// (PC Client) and PCR 17 is extended with the sequence digest of each bank. Before Startup it is an
    /// H-CRTM event: the next Startup(CLEAR) starts PCR 0 at 0…04 (the H-CRTM locality) and extends it.
    /// </summary>
    public void HashSignalEnd(IReadOnlyDictionary<TpmAlgId, byte[]> digests, bool started)
    {
        if (!started)
        {
            _hcrtmDigests = digests;
            return;
        }
        for (int p = 17; p <= 22; p++) ResetPcr(p);
        foreach (var (bank, digest) in digests) Extend(17, bank, digest);
        Changed(17);
    }

    void ApplyHcrtm()
    {
        if (_hcrtmDigests is not { } digests) return;
        for (int b = 0; b < 4; b++)
        {
            Array.Clear(_values[b][0]);
            _values[b][0][^1] = 4;
        }
        foreach (var (bank, digest) in digests) Extend(0, bank, digest);
        _hcrtmDigests = null;
    }

    /// <summary>Part 1 §17.6 / PC Client: initial values at TPM Reset and Restart (and for non-saved PCRs at Resume).</summary>
    void Initialize(uint which, byte startupLocality)
    {
        UpdateCounter += (uint)BitOperations.PopCount(which & ~NoIncrementMask);
        for (int b = 0; b < 4; b++)
        {
            for (int p = 0; p < PcrCount; p++)
            {
                if ((which & (1u << p)) == 0) continue;
                var v = _values[b][p];
                Array.Fill(v, (DrtmResetMask & (1u << p)) != 0 ? (byte)0xFF : (byte)0);
                // PC Client: a Startup at locality 3 (H-CRTM / locality-3 startup) leaves PCR 0 = 0...03.
                if (p == 0 && startupLocality == 3) v[^1] = 3;
            }
        }
    }

    // ---------------------------------------------------------------- authorization

    public void SetAuthValue(ReadOnlySpan<byte> auth) => _groupAuth = auth.ToArray();

    public void SetAuthPolicy(TpmAlgId alg, ReadOnlySpan<byte> policy)
    {
        _groupPolicyAlg = alg;
        _groupPolicy = policy.ToArray();
        Tpm.MarkPermanentDirty();
    }

    public override bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        if (handle == (uint)TpmRh.Null)
        {
            // TPMI_DH_PCR+ allows TPM_RH_NULL (PCR_Extend, PCR_Event, EventSequenceComplete), which is
            // authorized with an empty authValue (Part 1 §15.3). The hierarchy subsystem is asked first
            // and may answer for it instead.
            entity = new AuthEntity([], [], TpmAlgId.Null, DaProtected: false, Tpm.GetNameOfHandle(handle));
            return true;
        }
        if (handle >= PcrCount)
        {
            entity = default;
            return false;
        }
        bool group = InAuthGroup((int)handle);
        var name = Tpm.GetNameOfHandle(handle);
        entity = new AuthEntity(
            group ? _groupAuth : [],
            group ? _groupPolicy : [],
            group ? _groupPolicyAlg : TpmAlgId.Null,
            DaProtected: false,
            name);
        return true;
    }

    public override void ListHandles(TpmHt type, List<uint> handles)
    {
        if (type != TpmHt.Pcr) return;
        for (uint p = 0; p < PcrCount; p++) handles.Add(p);
    }

    // ---------------------------------------------------------------- lifecycle and state

    public override void Manufacture()
    {
        Array.Clear(_allocated);
        foreach (var alg in Tpm.Options.DefaultPcrBanks)
        {
            int b = BankIndex(alg);
            if (b >= 0) _allocated[b] = AllPcrs;
        }
        _allocated.CopyTo(_active, 0);
        _groupPolicy = [];
        _groupPolicyAlg = TpmAlgId.Null;
    }

    const byte PermanentVersion = 1;
    const byte VolatileVersion = 1;

    public override void WritePermanent(StateWriter w)
    {
        w.U8(PermanentVersion);
        for (int b = 0; b < 4; b++) { w.U32(_allocated[b]); w.U32(_active[b]); }
        w.U16((ushort)_groupPolicyAlg);
        w.Bytes(_groupPolicy);
        w.U32(_savedUpdateCounter);
    }

    public override void ReadPermanent(StateReader r)
    {
        if (r.U8() != PermanentVersion) throw new StateFormatException("unknown PCR permanent section version");
        for (int b = 0; b < 4; b++)
        {
            _allocated[b] = r.U32() & AllPcrs;
            _active[b] = r.U32() & AllPcrs;
        }
        _groupPolicyAlg = (TpmAlgId)r.U16();
        _groupPolicy = r.Bytes(TpmHash.MaxDigestSize);
        if (_groupPolicy.Length != (_groupPolicyAlg == TpmAlgId.Null ? 0 : TpmHash.DigestSize(_groupPolicyAlg)))
            throw new StateFormatException("PCR policy does not match its hash algorithm");
        _savedUpdateCounter = r.U32();
    }

    public override void WriteVolatile(StateWriter w)
    {
        w.U8(VolatileVersion);
        w.U32(UpdateCounter);
        w.Bytes(_groupAuth);
        for (int b = 0; b < 4; b++)
            for (int p = 0; p < PcrCount; p++) w.Bytes(_values[b][p]);
    }

    public override void ReadVolatile(StateReader r)
    {
        if (r.U8() != VolatileVersion) throw new StateFormatException("unknown PCR volatile section version");
        UpdateCounter = r.U32();
        _groupAuth = r.Bytes(TpmHash.MaxDigestSize);
        for (int b = 0; b < 4; b++)
        {
            for (int p = 0; p < PcrCount; p++)
            {
                var v = r.Bytes(TpmHash.MaxDigestSize);
                if (v.Length != _values[b][p].Length) throw new StateFormatException($"PCR {p} of bank {Banks[b]} has {v.Length} bytes");
                _values[b][p] = v;
            }
        }
    }

    public override void OnInit()
    {
        // Power on: RAM is gone; nothing is valid until Startup, which initialises every PCR.
        Initialize(AllPcrs, 0);
        UpdateCounter = 0;
        _hcrtmDigests = null;
        _groupAuth = [];
    }

    public override void OnShutdown(TpmSu shutdownType)
    {
        if (shutdownType != TpmSu.State) return;
        _savedUpdateCounter = UpdateCounter;
        Tpm.MarkPermanentDirty();
    }

    public override void OnStartup(StartupKind kind)
    {
        byte locality = Tpm.Engine.StartupLocality;
        switch (kind)
        {
            case StartupKind.Reset:
                // Part 3 §22.5: a new allocation takes effect at TPM Reset.
                if (AllocationPending)
                {
                    _allocated.CopyTo(_active, 0);
                    Tpm.MarkPermanentDirty();
                }
                UpdateCounter = 0;
                Initialize(AllPcrs, locality);
                ApplyHcrtm();
                _groupAuth = [];
                break;
            case StartupKind.Restart:
                UpdateCounter = _savedUpdateCounter;
                Initialize(AllPcrs, locality);
                ApplyHcrtm();
                _groupAuth = [];
                break;
            case StartupKind.Resume:
                // Part 1 §12.2.4: PCRs with the stateSave attribute come back from the image; the others reset.
                Initialize(AllPcrs & ~StateSaveMask, locality);
                break;
        }
    }

    /// <summary>Counts PCRs × digest sizes of an allocation (PCR_Allocate's sizeNeeded).</summary>
    public static uint SizeNeeded(ReadOnlySpan<uint> masks)
    {
        uint n = 0;
        for (int b = 0; b < 4; b++) n += (uint)(BitOperations.PopCount(masks[b] & AllPcrs) * TpmHash.DigestSize(TpmHash.Implemented[b]));
        return n;
    }

    /// <summary>PCR memory of this implementation: every PCR in every implemented bank.</summary>
    public static uint SizeAvailable => SizeNeeded([AllPcrs, AllPcrs, AllPcrs, AllPcrs]);
}
