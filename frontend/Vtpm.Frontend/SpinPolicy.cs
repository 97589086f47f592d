using System.Diagnostics;

namespace Vtpm.Frontend;

/// <summary>
/// Bounded, self-tuning polling before a side sleeps on a doorbell. Spinning pays only when the peer runs on
/// another CPU at the same time: then a round trip costs two cache-line transfers and no system call. When
/// the two threads share one CPU (a loaded machine) every spin is pure loss: the peer cannot answer until the
/// spinner gives the CPU up, so spinning on both sides adds both budgets to every round trip. So the budget
/// adapts: a spin that ends with the event restores the full budget, <see cref="MissesToHalve"/> spins in a row
/// that run out halve it (down to zero: sleep at once; a single miss, e.g. a long command or a time slice lost
/// on a busy machine, changes nothing), and every 64th wait probes with <see cref="ProbeFactor"/> times the full budget so spinning resumes
/// when CPUs free up. Only one thread uses an instance at a time (the frontend's transaction lock, the
/// backend's serve thread).
/// </summary>
internal sealed class AdaptiveSpin(int maxMicroseconds)
{
    /// <summary>Consecutive spins that run out before the budget is halved.</summary>
    public const int MissesToHalve = 3;

    /// <summary>
    /// A probe polls this many times the full budget. Measured on the 2-vCPU test VM: once both threads sleep,
    /// the scheduler keeps them on one CPU and a probe of just the full budget mostly expires before the peer
    /// (woken onto the other, halted vCPU) gets going, so the ring stayed in the slow mode for whole runs; a
    /// longer probe gets them apart again. One such probe per 64 waits is bounded waste on a loaded machine.
    /// </summary>
    public const int ProbeFactor = 4;

    readonly int _max = maxMicroseconds;
    int _budget = maxMicroseconds;
    int _waits;
    int _misses;

    /// <summary>The configured budget (µs); 0 disables spinning.</summary>
    public int MaxMicroseconds => _max;

    /// <summary>The budget for the next wait (µs).</summary>
    public int CurrentMicroseconds => _budget;

    /// <summary>Starts one wait: poll with <see cref="SpinPolicy.Pause"/>, then report with <see cref="End"/>.</summary>
    public SpinPolicy Begin() => new((++_waits & 63) == 0 ? ProbeFactor * _max : _budget);

    /// <summary>Reports how the wait begun by <see cref="Begin"/> ended: the event came while spinning, or not.</summary>
    public void End(bool whileSpinning)
    {
        if (whileSpinning)
        {
            _budget = _max;
            _misses = 0;
        }
        else if (++_misses >= MissesToHalve)
        {
            _budget /= 2;
            _misses = 0;
        }
    }
}

/// <summary>
/// One bounded poll: a pause, then one look at the state, until the budget is spent; then the caller sleeps on
/// the futex, so an idle ring uses no CPU. No sched_yield(2) phase: a yielding thread waits behind whole time
/// slices of other tasks, while a thread woken from a futex is favoured by the scheduler's wake-up preemption.
/// </summary>
internal readonly struct SpinPolicy
{
    readonly long _until;

    public SpinPolicy(int budgetMicroseconds) =>
        _until = budgetMicroseconds <= 0 ? 0 : Stopwatch.GetTimestamp() + budgetMicroseconds * Stopwatch.Frequency / 1_000_000;

    /// <summary>Waits a little before the next look; false once the budget is spent (the caller then sleeps).</summary>
    public bool Pause()
    {
        if (_until == 0 || Stopwatch.GetTimestamp() >= _until) return false;
        Thread.SpinWait(1);
        return true;
    }

    /// <summary>A policy whose budget is already spent.</summary>
    public static SpinPolicy None => default;
}
