using System.Diagnostics;

namespace Vtpm.Frontend;

/// <summary>
/// Bounded polling before a side sleeps on a doorbell: a pause, then one load of the state, until the budget is
/// spent; then the caller sleeps on the futex, so an idle ring uses no CPU. No sched_yield(2) phase: on a
/// loaded machine a yielding thread waits behind whole time slices of other tasks, while a thread woken from a
/// futex is favoured by the scheduler's wake-up preemption, so once the short spin fails sleeping is the faster
/// way to wait (measured with ./build.sh bench --ring).
/// </summary>
internal readonly struct SpinPolicy
{
    readonly long _until;

    public SpinPolicy(int budgetMicroseconds) =>
        _until = Stopwatch.GetTimestamp() + budgetMicroseconds * Stopwatch.Frequency / 1_000_000;

    /// <summary>Waits a little before the next look; false once the budget is spent (the caller then sleeps).</summary>
    public bool Pause()
    {
        if (Stopwatch.GetTimestamp() >= _until) return false;
        Thread.SpinWait(1);
        return true;
    }

    /// <summary>A policy whose budget is already spent.</summary>
    public static SpinPolicy None => default;
}
