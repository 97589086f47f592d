using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// Dictionary-attack protection (Part 1 §19.8): failedTries counts authorization failures of
/// DA-protected entities; at maxTries the TPM is in lockout (TPM_RC_LOCKOUT) until failedTries heals
/// by one every recoveryTime seconds of powered-on time, or DictionaryAttackLockReset. A lockoutAuth
/// failure blocks lockoutAuth for lockoutRecovery seconds (0: until the next Startup).
/// recoveryTime 0 disables DA protection (failures are not counted).
/// </summary>
public sealed class DictionaryAttackSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>The reference's (and swtpm's) manufacturing defaults: 3 tries, 1000 s, 1000 s.</summary>
    public const uint DefaultMaxTries = 3, DefaultRecoveryTime = 1000, DefaultLockoutRecovery = 1000;

    public override string Tag => "DA  ";

    public uint FailedTries { get; private set; }
    public uint MaxTries { get; private set; } = DefaultMaxTries;
    public uint RecoveryTime { get; private set; } = DefaultRecoveryTime;
    public uint LockoutRecovery { get; private set; } = DefaultLockoutRecovery;

    /// <summary>False after a lockoutAuth failure until lockoutRecovery elapses (or the next Startup when it is 0).</summary>
    public bool LockoutAuthEnabled { get; private set; } = true;

    /// <summary>
    /// A DA-protected entity was authorized since the last orderly shutdown. Persisted so that a
    /// disorderly shutdown after DA use counts as a failure at the next Startup (Part 1 §19.8.6).
    /// </summary>
    bool _daUsed;

    // Powered-on time (ms, Platform.MonotonicMilliseconds) from which healing is counted.
    ulong _selfHealStart;
    ulong _lockoutAuthStart;

    ulong Now => Tpm.Platform.MonotonicMilliseconds;

    public bool InLockout
    {
        get
        {
            SelfHeal();
            return FailedTries >= MaxTries;
        }
    }

    public override void Manufacture() => ResetToDefaults();

    void ResetToDefaults()
    {
        FailedTries = 0;
        MaxTries = DefaultMaxTries;
        RecoveryTime = DefaultRecoveryTime;
        LockoutRecovery = DefaultLockoutRecovery;
        LockoutAuthEnabled = true;
    }

    public override void WritePermanent(StateWriter w)
    {
        w.U32(FailedTries); w.U32(MaxTries); w.U32(RecoveryTime); w.U32(LockoutRecovery);
        w.Bool(LockoutAuthEnabled); w.Bool(_daUsed);
    }

    public override void ReadPermanent(StateReader r)
    {
        FailedTries = r.U32(); MaxTries = r.U32(); RecoveryTime = r.U32(); LockoutRecovery = r.U32();
        LockoutAuthEnabled = r.Bool(); _daUsed = r.Bool();
    }

    public override void OnInit()
    {
        // Healing counts powered-on time only: the timers restart at power-on.
        _selfHealStart = _lockoutAuthStart = Now;
    }

    public override void OnStartup(StartupKind kind)
    {
        // lockoutRecovery 0: lockoutAuth comes back only with the next Startup — of any kind, as the
        // reference's DAStartup and swtpm do (even a Resume).
        if (LockoutRecovery == 0 && !LockoutAuthEnabled)
        {
            LockoutAuthEnabled = true;
            Tpm.MarkPermanentDirty();
        }
        // Part 1 §19.8.6: a disorderly shutdown while DA-protected entities were in use may hide an
        // attack; it counts as one authorization failure.
        if (Tpm.Engine.LastShutdownWasDisorderly && _daUsed && RecoveryTime != 0 && FailedTries < MaxTries)
        {
            FailedTries++;
            Tpm.MarkPermanentDirty();
        }
        if (_daUsed)
        {
            _daUsed = false;
            Tpm.MarkPermanentDirty();
        }
        _selfHealStart = _lockoutAuthStart = Now;
    }

    /// <summary>Applies the healing that has accrued: one failure forgiven per recoveryTime; lockoutAuth after lockoutRecovery.</summary>
    void SelfHeal()
    {
        ulong now = Now;
        if (FailedTries > 0 && RecoveryTime != 0)
        {
            ulong period = RecoveryTime * 1000UL;
            ulong healed = (now - _selfHealStart) / period;
            if (healed > 0)
            {
                FailedTries = healed >= FailedTries ? 0 : FailedTries - (uint)healed;
                _selfHealStart += healed * period;
                Tpm.MarkPermanentDirty();
            }
        }
        else
        {
            _selfHealStart = now;
        }
        if (!LockoutAuthEnabled && LockoutRecovery != 0 && now - _lockoutAuthStart >= LockoutRecovery * 1000UL)
        {
            LockoutAuthEnabled = true;
            Tpm.MarkPermanentDirty();
        }
    }

    /// <summary>
    /// TPM_RC_LOCKOUT if authorization of this entity is not allowed now; TPM_RC_RETRY for the first
    /// DA-protected authorization after Startup (see below). Called right before an
    /// authValue is compared; on a mismatch the caller then calls <see cref="RecordFailure"/>.
    /// </summary>
    public TpmRc CheckLockout(uint handle, in AuthEntity entity)
    {
        SelfHeal();
        if (handle == (uint)TpmRh.Lockout) return LockoutAuthEnabled ? TpmRc.Success : TpmRc.Lockout;
        if (entity.DaProtected)
        {
            if (FailedTries >= MaxTries) return TpmRc.Lockout;
            // The reference (USE_DA_USED) records "DA in use" in NV before the first DA-protected
            // authorization after Startup and answers TPM_RC_RETRY once; swtpm does, and TSSs retry.
            if (!_daUsed)
            {
                _daUsed = true;
                Tpm.MarkPermanentDirty();
                return TpmRc.Retry;
            }
        }
        Tpm.Nv.BeginAuthValueCheck(handle);
        return TpmRc.Success;
    }

    /// <summary>Records a failed authorization; returns TPM_RC_AUTH_FAIL (DA-protected) or TPM_RC_BAD_AUTH.</summary>
    public TpmRc RecordFailure(uint handle, in AuthEntity entity)
    {
        if (handle == (uint)TpmRh.Lockout)
        {
            LockoutAuthEnabled = false;
            _lockoutAuthStart = Now;
            Tpm.MarkPermanentDirty();
            return TpmRc.AuthFail;
        }
        Tpm.Nv.AuthValueCheckFailed(handle);
        if (!entity.DaProtected) return TpmRc.BadAuth;
        if (RecoveryTime != 0)
        {
            SelfHeal();
            if (FailedTries == 0) _selfHealStart = Now;
            if (FailedTries < uint.MaxValue) FailedTries++;
            Tpm.MarkPermanentDirty();
        }
        return TpmRc.AuthFail;
    }

    /// <summary>TPM2_DictionaryAttackLockReset (Part 3 §25.2).</summary>
    public void LockReset()
    {
        FailedTries = 0;
        _selfHealStart = Now;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPM2_DictionaryAttackParameters (Part 3 §25.3): new parameters; failedTries restarts at 0.</summary>
    public void SetParameters(uint maxTries, uint recoveryTime, uint lockoutRecovery)
    {
        MaxTries = maxTries;
        RecoveryTime = recoveryTime;
        LockoutRecovery = lockoutRecovery;
        FailedTries = 0;
        _selfHealStart = _lockoutAuthStart = Now;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPM2_Clear resets the DA parameters to their defaults (the reference's pre-install values).</summary>
    public void OnClear()
    {
        ResetToDefaults();
        _selfHealStart = _lockoutAuthStart = Now;
        Tpm.MarkPermanentDirty();
    }

    public override bool TryGetProperty(TpmPt property, out uint value)
    {
        switch (property)
        {
            case TpmPt.LockoutCounter: SelfHeal(); value = FailedTries; return true;
            case TpmPt.MaxAuthFail: value = MaxTries; return true;
            case TpmPt.LockoutInterval: value = RecoveryTime; return true;
            case TpmPt.LockoutRecovery: value = LockoutRecovery; return true;
        }
        value = 0;
        return false;
    }
}
