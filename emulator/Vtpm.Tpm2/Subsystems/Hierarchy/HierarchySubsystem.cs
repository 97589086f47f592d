using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// Hierarchies (Part 1 §13–14): the primary seeds EPS/SPS/PPS, the proofs derived per hierarchy,
/// the hierarchy authValues and authPolicies, the enables and disableClear.
/// Permanent: seeds, proofs, owner/endorsement/lockout auths and policies, disableClear, and the
/// reset data nullSeed/nullProof (Part 1 §14.7: regenerated on every TPM Reset, kept across Restart).
/// Volatile (state-clear data): platformAuth/platformPolicy and the enables, which Startup(CLEAR) resets.
/// </summary>
public sealed class HierarchySubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>Size of seeds and proofs: the largest implemented digest (Part 1 §14.3 PRIMARY_SEED_SIZE).</summary>
    public const int SeedSize = 64;
    public const int ProofSize = 64;

    public override string Tag => "HIER";

    byte[] _eps = [], _sps = [], _pps = [], _nullSeed = [];
    byte[] _phProof = [], _shProof = [], _ehProof = [], _nullProof = [];

    public byte[] OwnerAuth { get; private set; } = [];
    public byte[] EndorsementAuth { get; private set; } = [];
    public byte[] LockoutAuth { get; private set; } = [];
    public byte[] PlatformAuth { get; private set; } = [];

    public byte[] OwnerPolicy { get; private set; } = [];
    public TpmAlgId OwnerPolicyAlg { get; private set; } = TpmAlgId.Null;
    public byte[] EndorsementPolicy { get; private set; } = [];
    public TpmAlgId EndorsementPolicyAlg { get; private set; } = TpmAlgId.Null;
    public byte[] LockoutPolicy { get; private set; } = [];
    public TpmAlgId LockoutPolicyAlg { get; private set; } = TpmAlgId.Null;
    public byte[] PlatformPolicy { get; private set; } = [];
    public TpmAlgId PlatformPolicyAlg { get; private set; } = TpmAlgId.Null;

    public bool DisableClear { get; private set; }

    /// <summary>TPMA_PERMANENT.tpmGeneratedEPS: the EPS came from the TPM's RNG (Manufacture, ChangeEPS).</summary>
    public bool TpmGeneratedEps { get; private set; }

    public bool PhEnable { get; private set; } = true;
    public bool ShEnable { get; private set; } = true;
    public bool EhEnable { get; private set; } = true;
    public bool PhEnableNv { get; private set; } = true;

    /// <summary>
    /// Raised with TPM_RH_OWNER / ENDORSEMENT / PLATFORM when that hierarchy's objects must be flushed
    /// (hierarchy disabled, seed changed, TPM2_Clear). The object subsystem subscribes.
    /// </summary>
    public event Action<uint>? HierarchyObjectsInvalidated;

    /// <summary>A hierarchy's proof or seed was replaced (Clear, ChangePPS, ChangeEPS): its persistent objects are gone too.</summary>
    public event Action<uint>? HierarchyReplaced;

    /// <summary>Raised by TPM2_Clear after the hierarchy state changed (Part 3 §24.6): other areas reset what Clear resets.</summary>
    public event Action? Cleared;

    public ReadOnlySpan<byte> EndorsementSeed => _eps;
    public ReadOnlySpan<byte> StorageSeed => _sps;
    public ReadOnlySpan<byte> PlatformSeed => _pps;
    public ReadOnlySpan<byte> NullSeed => _nullSeed;

    /// <summary>
    /// Replaces a seed or proof, wiping the old value (style rule 7). AuthValues are not wiped in
    /// place: the session code of the same command may still hold them for the response HMAC.
    /// </summary>
    static void Replace(ref byte[] field, byte[] value)
    {
        if (!ReferenceEquals(field, value)) System.Security.Cryptography.CryptographicOperations.ZeroMemory(field);
        field = value;
    }

    byte[] Random(int n)
    {
        var b = new byte[n];
        Tpm.Random.Generate(b);
        return b;
    }

    // A TPM just manufactured has no previous run: its first Startup counts as orderly (swtpm reports orderly 1).
    bool _manufactured;
    bool _orderlyStartup;

    public override void Manufacture()
    {
        _manufactured = true;
        _eps = Random(SeedSize);
        _sps = Random(SeedSize);
        _pps = Random(SeedSize);
        _nullSeed = Random(SeedSize);
        _phProof = Random(ProofSize);
        _shProof = Random(ProofSize);
        _ehProof = Random(ProofSize);
        _nullProof = Random(ProofSize);
        TpmGeneratedEps = true;
    }

    public override void WritePermanent(StateWriter w)
    {
        w.Bytes(_eps); w.Bytes(_sps); w.Bytes(_pps); w.Bytes(_nullSeed);
        w.Bytes(_phProof); w.Bytes(_shProof); w.Bytes(_ehProof); w.Bytes(_nullProof);
        w.Bytes(OwnerAuth); w.Bytes(EndorsementAuth); w.Bytes(LockoutAuth);
        w.U16((ushort)OwnerPolicyAlg); w.Bytes(OwnerPolicy);
        w.U16((ushort)EndorsementPolicyAlg); w.Bytes(EndorsementPolicy);
        w.U16((ushort)LockoutPolicyAlg); w.Bytes(LockoutPolicy);
        w.Bool(DisableClear);
        w.Bool(TpmGeneratedEps);
    }

    public override void ReadPermanent(StateReader r)
    {
        _eps = r.Bytes(SeedSize); _sps = r.Bytes(SeedSize); _pps = r.Bytes(SeedSize); _nullSeed = r.Bytes(SeedSize);
        _phProof = r.Bytes(ProofSize); _shProof = r.Bytes(ProofSize); _ehProof = r.Bytes(ProofSize); _nullProof = r.Bytes(ProofSize);
        OwnerAuth = r.Bytes(TpmHash.MaxDigestSize); EndorsementAuth = r.Bytes(TpmHash.MaxDigestSize); LockoutAuth = r.Bytes(TpmHash.MaxDigestSize);
        OwnerPolicyAlg = (TpmAlgId)r.U16(); OwnerPolicy = r.Bytes(TpmHash.MaxDigestSize);
        EndorsementPolicyAlg = (TpmAlgId)r.U16(); EndorsementPolicy = r.Bytes(TpmHash.MaxDigestSize);
        LockoutPolicyAlg = (TpmAlgId)r.U16(); LockoutPolicy = r.Bytes(TpmHash.MaxDigestSize);
        DisableClear = r.Bool();
        TpmGeneratedEps = r.Bool();
    }

    public override void WriteVolatile(StateWriter w)
    {
        w.Bytes(PlatformAuth);
        w.U16((ushort)PlatformPolicyAlg); w.Bytes(PlatformPolicy);
        w.Bool(PhEnable); w.Bool(ShEnable); w.Bool(EhEnable); w.Bool(PhEnableNv); w.Bool(_orderlyStartup);
    }

    public override void ReadVolatile(StateReader r)
    {
        PlatformAuth = r.Bytes(TpmHash.MaxDigestSize);
        PlatformPolicyAlg = (TpmAlgId)r.U16(); PlatformPolicy = r.Bytes(TpmHash.MaxDigestSize);
        PhEnable = r.Bool(); ShEnable = r.Bool(); EhEnable = r.Bool(); PhEnableNv = r.Bool(); _orderlyStartup = r.Bool();
    }

    public override void OnStartup(StartupKind kind)
    {
        _orderlyStartup = _manufactured || !Tpm.Engine.LastShutdownWasDisorderly;
        _manufactured = false;
        // Part 1 §14.7: a TPM Reset makes a new nullSeed and nullProof (reset data, persists across Restart).
        if (kind == StartupKind.Reset)
        {
            Replace(ref _nullSeed, Random(SeedSize));
            Replace(ref _nullProof, Random(ProofSize));
            Tpm.MarkPermanentDirty();
        }
        // Part 2 TPMA_STARTUP_CLEAR: phEnable is SET by every TPM2_Startup; shEnable, ehEnable and
        // phEnableNV by Startup(CLEAR) (Reset or Restart); Resume keeps the saved values.
        PhEnable = true;
        if (kind != StartupKind.Resume)
        {
            ShEnable = EhEnable = PhEnableNv = true;
            // Part 1 §13.2.2: platformAuth and platformPolicy are reset on every Startup(CLEAR).
            PlatformAuth = [];
            PlatformPolicy = [];
            PlatformPolicyAlg = TpmAlgId.Null;
        }
    }

    /// <summary>TPM_RC_HIERARCHY if a permanent handle's hierarchy is disabled (base code; the caller adds the index).</summary>
    public TpmRc CheckEnabled(uint handle) => handle switch
    {
        (uint)TpmRh.Owner => ShEnable ? TpmRc.Success : TpmRc.Hierarchy,
        (uint)TpmRh.Endorsement => EhEnable ? TpmRc.Success : TpmRc.Hierarchy,
        (uint)TpmRh.Platform => PhEnable ? TpmRc.Success : TpmRc.Hierarchy,
        (uint)TpmRh.PlatformNv => PhEnableNv ? TpmRc.Success : TpmRc.Hierarchy,
        _ => TpmRc.Success,
    };

    /// <summary>Whether the hierarchy (owner, endorsement, platform, null) is enabled.</summary>
    public bool IsEnabled(uint hierarchy) => hierarchy == (uint)TpmRh.Null || CheckEnabled(hierarchy).IsSuccess;

    /// <summary>
    /// The proof value of a hierarchy (Part 1 §14.6: phProof, shProof, ehProof; TPM_RH_NULL has the
    /// per-reset nullProof). Tickets and saved contexts are HMACed with it.
    /// </summary>
    public byte[] GetProof(uint hierarchy) => hierarchy switch
    {
        (uint)TpmRh.Owner => _shProof,
        (uint)TpmRh.Endorsement => _ehProof,
        (uint)TpmRh.Platform => _phProof,
        (uint)TpmRh.Null => _nullProof,
        _ => throw new ArgumentOutOfRangeException(nameof(hierarchy), hierarchy, "not a hierarchy"),
    };

    /// <summary>The primary seed of a hierarchy (EPS, SPS, PPS, nullSeed).</summary>
    public ReadOnlySpan<byte> GetSeed(uint hierarchy) => hierarchy switch
    {
        (uint)TpmRh.Owner => _sps,
        (uint)TpmRh.Endorsement => _eps,
        (uint)TpmRh.Platform => _pps,
        (uint)TpmRh.Null => _nullSeed,
        _ => throw new ArgumentOutOfRangeException(nameof(hierarchy), hierarchy, "not a hierarchy"),
    };

    public override bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        var name = handle is (uint)TpmRh.Owner or (uint)TpmRh.Endorsement or (uint)TpmRh.Platform or (uint)TpmRh.Lockout or (uint)TpmRh.PlatformNv
            ? Tpm.GetNameOfHandle(handle) : null;
        entity = handle switch
        {
            (uint)TpmRh.Owner => new AuthEntity(OwnerAuth, OwnerPolicy, OwnerPolicyAlg, false, name!),
            (uint)TpmRh.Endorsement => new AuthEntity(EndorsementAuth, EndorsementPolicy, EndorsementPolicyAlg, false, name!),
            (uint)TpmRh.Platform or (uint)TpmRh.PlatformNv => new AuthEntity(PlatformAuth, PlatformPolicy, PlatformPolicyAlg, false, name!),
            // Part 1 §19.8.3: lockoutAuth failures are counted separately (lockoutAuth lockout); a
            // failure answers TPM_RC_AUTH_FAIL as for a DA-protected entity.
            (uint)TpmRh.Lockout => new AuthEntity(LockoutAuth, LockoutPolicy, LockoutPolicyAlg, true, name!),
            _ => default,
        };
        return name is not null;
    }

    public override bool TryGetProperty(TpmPt property, out uint value)
    {
        switch (property)
        {
            case TpmPt.Permanent:
                // TPMA_PERMANENT (Part 2 §8.6).
                value = (OwnerAuth.Length > 0 ? 1u : 0) | (EndorsementAuth.Length > 0 ? 1u << 1 : 0) | (LockoutAuth.Length > 0 ? 1u << 2 : 0)
                    | (DisableClear ? 1u << 8 : 0) | (Tpm.DictionaryAttack.InLockout ? 1u << 9 : 0) | (TpmGeneratedEps ? 1u << 10 : 0);
                return true;
            case TpmPt.StartupClear:
                // TPMA_STARTUP_CLEAR (Part 2 §8.7); orderly: the last Startup followed an orderly Shutdown.
                value = (PhEnable ? 1u : 0) | (ShEnable ? 1u << 1 : 0) | (EhEnable ? 1u << 2 : 0) | (PhEnableNv ? 1u << 3 : 0)
                    | (_orderlyStartup ? 1u << 31 : 0);
                return true;
        }
        value = 0;
        return false;
    }

    // ---------------------------------------------------------------- changes made by commands

    /// <summary>Sets a hierarchy's authValue (trailing zeros already removed).</summary>
    public void SetAuth(uint handle, byte[] auth)
    {
        switch (handle)
        {
            case (uint)TpmRh.Owner: OwnerAuth = auth; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Endorsement: EndorsementAuth = auth; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Lockout: LockoutAuth = auth; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Platform: PlatformAuth = auth; break;
            default: throw new ArgumentOutOfRangeException(nameof(handle), handle, "not a hierarchy auth handle");
        }
    }

    public void SetPolicy(uint handle, byte[] policy, TpmAlgId alg)
    {
        switch (handle)
        {
            case (uint)TpmRh.Owner: OwnerPolicy = policy; OwnerPolicyAlg = alg; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Endorsement: EndorsementPolicy = policy; EndorsementPolicyAlg = alg; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Lockout: LockoutPolicy = policy; LockoutPolicyAlg = alg; Tpm.MarkPermanentDirty(); break;
            case (uint)TpmRh.Platform: PlatformPolicy = policy; PlatformPolicyAlg = alg; break;
            default: throw new ArgumentOutOfRangeException(nameof(handle), handle, "not a hierarchy policy handle");
        }
    }

    /// <summary>HierarchyControl's effect: sets or clears one enable; disabling flushes that hierarchy's objects.</summary>
    public void SetEnable(uint enable, bool state)
    {
        switch (enable)
        {
            case (uint)TpmRh.Owner: ShEnable = state; break;
            case (uint)TpmRh.Endorsement: EhEnable = state; break;
            case (uint)TpmRh.Platform: PhEnable = state; break;
            case (uint)TpmRh.PlatformNv: PhEnableNv = state; break;
            default: throw new ArgumentOutOfRangeException(nameof(enable), enable, "not an enable");
        }
        if (!state && enable != (uint)TpmRh.PlatformNv) HierarchyObjectsInvalidated?.Invoke(enable);
    }

    public void SetDisableClear(bool value)
    {
        DisableClear = value;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>Part 3 §24.6 TPM2_Clear: the hierarchy part (new SPS, shProof, ehProof; empty auths and policies; sh/eh enabled).</summary>
    public void Clear()
    {
        Replace(ref _sps, Random(SeedSize));
        Replace(ref _shProof, Random(ProofSize));
        Replace(ref _ehProof, Random(ProofSize));
        ShEnable = EhEnable = true;
        OwnerAuth = []; EndorsementAuth = []; LockoutAuth = [];
        OwnerPolicy = []; EndorsementPolicy = []; LockoutPolicy = [];
        OwnerPolicyAlg = EndorsementPolicyAlg = LockoutPolicyAlg = TpmAlgId.Null;
        Tpm.MarkPermanentDirty();
        HierarchyObjectsInvalidated?.Invoke((uint)TpmRh.Owner);
        HierarchyObjectsInvalidated?.Invoke((uint)TpmRh.Endorsement);
        HierarchyReplaced?.Invoke((uint)TpmRh.Owner);
        HierarchyReplaced?.Invoke((uint)TpmRh.Endorsement);
        Cleared?.Invoke();
    }

    /// <summary>Part 3 §24.7 TPM2_ChangePPS: new PPS and phProof; platformPolicy emptied; platform objects flushed.</summary>
    public void ChangePps()
    {
        Replace(ref _pps, Random(SeedSize));
        Replace(ref _phProof, Random(ProofSize));
        PlatformPolicy = [];
        PlatformPolicyAlg = TpmAlgId.Null;
        Tpm.MarkPermanentDirty();
        HierarchyObjectsInvalidated?.Invoke((uint)TpmRh.Platform);
        HierarchyReplaced?.Invoke((uint)TpmRh.Platform);
    }

    /// <summary>Part 3 §24.8 TPM2_ChangeEPS: new EPS and ehProof; endorsementAuth/Policy emptied; endorsement objects flushed.</summary>
    public void ChangeEps()
    {
        Replace(ref _eps, Random(SeedSize));
        Replace(ref _ehProof, Random(ProofSize));
        TpmGeneratedEps = true;
        EndorsementAuth = [];
        EndorsementPolicy = [];
        EndorsementPolicyAlg = TpmAlgId.Null;
        Tpm.MarkPermanentDirty();
        HierarchyObjectsInvalidated?.Invoke((uint)TpmRh.Endorsement);
        HierarchyReplaced?.Invoke((uint)TpmRh.Endorsement);
    }
}
