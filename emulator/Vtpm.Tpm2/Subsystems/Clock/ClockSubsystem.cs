using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// Time and Clock (Part 1 §36): Time counts milliseconds since _TPM_Init; Clock counts milliseconds
/// the TPM has been powered since it was manufactured (or cleared), can be advanced by ClockSet and is
/// written to NV every <see cref="UpdateInterval"/> ms and at orderly shutdown. After a disorderly
/// shutdown Clock resumes from the last value written and <c>safe</c> is cleared, because values up
/// to one interval higher may already have been reported. resetCount counts TPM Resets, restartCount
/// Restarts and Resumes since the last Reset.
/// </summary>
public sealed class ClockSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>Clock is persisted when it crosses a multiple of this (the reference's 2^22 ms, ~70 min).</summary>
    public const ulong UpdateInterval = 1UL << 22;

    /// <summary>Part 2 TPM_CLOCK_ADJUST steps in parts per <see cref="RateNominal"/>; limit ±15 %.</summary>
    public const int RateNominal = 100_000, RateCoarse = 3_000, RateMedium = 300, RateFine = 10, RateLimit = 15_000;

    public override string Tag => "CLCK";

    ulong _persistedClock;   // value in NV
    ulong _clockBase;        // Clock at _baseMonotonic
    ulong _baseMonotonic;
    ulong _initMonotonic;
    int _rate = RateNominal; // Clock ms per RateNominal real ms

    public uint ResetCount { get; private set; }
    public uint RestartCount { get; private set; }
    public bool Safe { get; private set; } = true;

    ulong Monotonic => Tpm.Platform.MonotonicMilliseconds;

    /// <summary>Time (ms since _TPM_Init).</summary>
    public ulong Time => Monotonic - _initMonotonic;

    /// <summary>The current Clock; persists it when it crosses an update interval.</summary>
    public ulong Clock
    {
        get
        {
            ulong now = Monotonic;
            ulong elapsed = now - _baseMonotonic;
            ulong clock = _clockBase + (ulong)((UInt128)elapsed * (ulong)_rate / RateNominal);
            if ((clock | (UpdateInterval - 1)) != (_persistedClock | (UpdateInterval - 1)) && clock > _persistedClock)
            {
                // Part 1 §36.3: once the value is in NV a later disorderly restart cannot go back beyond it.
                _persistedClock = clock;
                Safe = true;
                Tpm.MarkPermanentDirty();
            }
            return clock;
        }
    }

    void Rebase(ulong clock)
    {
        _clockBase = clock;
        _baseMonotonic = Monotonic;
    }

    // A TPM just manufactured has no previous run: its first _TPM_Init is not after a disorderly shutdown.
    bool _manufactured;

    public override void Manufacture()
    {
        _manufactured = true;
        _persistedClock = 0;
        ResetCount = RestartCount = 0;
        Safe = true;
    }

    public override void WritePermanent(StateWriter w)
    {
        w.U64(_persistedClock);
        w.U32(ResetCount);
        w.U32(RestartCount);
        w.Bool(Safe);
    }

    public override void ReadPermanent(StateReader r)
    {
        _persistedClock = r.U64();
        ResetCount = r.U32();
        RestartCount = r.U32();
        Safe = r.Bool();
    }

    public override void OnInit()
    {
        _initMonotonic = Monotonic;
        _rate = RateNominal;
        Rebase(_persistedClock);
        // Part 1 §36.3: after a disorderly shutdown Clock may have reported more than what was saved.
        if (Tpm.Engine.LastShutdownWasDisorderly && !_manufactured) Safe = false;
        _manufactured = false;
    }

    public override void OnStartup(StartupKind kind)
    {
        if (kind == StartupKind.Reset)
        {
            ResetCount++;
            RestartCount = 0;
        }
        else
        {
            RestartCount++;
        }
        _ = Clock;
        Tpm.MarkPermanentDirty();
    }

    public override void OnShutdown(TpmSu shutdownType)
    {
        _persistedClock = Clock;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPM2_ClockSet's effect (the caller checked it is not going backwards and not at the max).</summary>
    public void Set(ulong newTime)
    {
        Rebase(newTime);
        _persistedClock = newTime;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPM2_ClockRateAdjust: step in -3..3 (TPM_CLOCK_ADJUST); the rate stays within ±15 %.</summary>
    public void AdjustRate(int step)
    {
        Rebase(Clock);
        int delta = Math.Abs(step) switch { 3 => RateCoarse, 2 => RateMedium, 1 => RateFine, _ => 0 };
        _rate = Math.Clamp(_rate + Math.Sign(step) * delta, RateNominal - RateLimit, RateNominal + RateLimit);
    }

    public int Rate => _rate;

    /// <summary>TPM2_Clear (Part 3 §24.6): Clock to 0 and safe, resetCount and restartCount to 0.</summary>
    public void OnClear()
    {
        Rebase(0);
        _persistedClock = 0;
        Safe = true;
        ResetCount = RestartCount = 0;
        Tpm.MarkPermanentDirty();
    }

    /// <summary>TPMS_CLOCK_INFO (Part 2 §10.11.1): Clock, resetCount, restartCount, safe.</summary>
    public TpmsClockInfo ClockInfo => new()
    {
        Clock = Clock,
        ResetCount = ResetCount,
        RestartCount = RestartCount,
        Safe = Safe ? (byte)1 : (byte)0,
    };

    /// <summary>TPMS_TIME_INFO (Part 2 §10.11.6): Time and <see cref="ClockInfo"/>.</summary>
    public TpmsTimeInfo TimeInfo => new() { Time = Time, ClockInfo = ClockInfo };
}
