using System.Numerics;
using System.Runtime.InteropServices;

namespace Vtpm.Frontend;

/// <summary>
/// Keeps the calling thread (tpmback's serve thread) off the CPU its frontend runs on while they exchange
/// requests. Polling only pays when the two sides run at the same time on different CPUs; once both have slept
/// a few times, the scheduler tends to wake each onto the other's CPU and keeps them there (measured on a
/// 2-vCPU VM: half the runs went from ~1 µs round trips to 12 µs futex ping-pong for the rest of the run, and
/// pinning the two apart by hand removed that mode entirely). So when the serve thread, woken from its
/// doorbell, finds itself on the CPU the frontend wrote into the doorbell page with its last request, it
/// narrows its own affinity to the CPUs it was allowed at the start minus that one, which moves it now and
/// keeps wake-ups from pulling it back. The frontend's thread is never touched (it belongs to the client).
/// <para>
/// The CPU number comes from the peer: anything outside the thread's original set is ignored, and the set never
/// shrinks below the original minus one CPU, so a hostile frontend can at most move the serve thread between
/// CPUs it was allowed anyway. With fewer than two allowed CPUs there is nothing to do. <see cref="Restore"/>
/// (at disconnect) gives the thread its original set back.
/// </para>
/// </summary>
internal sealed unsafe partial class PeerCpuAvoidance
{
    // cpu_set_t as glibc sizes it (1024 CPUs); sched_setaffinity(2) accepts any multiple of the word size.
    const int MaskWords = 16;

    readonly ulong[] _original = new ulong[MaskWords];
    readonly ulong[] _narrowed = new ulong[MaskWords];
    readonly bool _usable;
    bool _narrowedNow;

    /// <summary>How often the thread moved off its frontend's CPU (diagnostics and tests).</summary>
    public int Moves { get; private set; }

    /// <summary>The CPU the frontend was on at the last move, −1 before any.</summary>
    public int AvoidedCpu { get; private set; } = -1;

    /// <summary>Captures the calling thread's allowed CPUs; call it on the thread it will steer.</summary>
    public PeerCpuAvoidance()
    {
        fixed (ulong* m = _original)
        {
            _usable = SchedGetaffinity(0, MaskWords * sizeof(ulong), m) == 0 && Count(_original) >= 2;
        }
    }

    /// <summary>
    /// Called on the steered thread after it woke for a request: if it runs on <paramref name="peerCpu"/>,
    /// leave that CPU. True when the thread was moved.
    /// </summary>
    public bool AvoidPeer(int peerCpu)
    {
        if (!_usable || (uint)peerCpu >= MaskWords * 64 || (_original[peerCpu >> 6] & (1UL << (peerCpu & 63))) == 0) return false;
        if (SchedGetcpu() != peerCpu) return false;
        _original.CopyTo(_narrowed, 0);
        _narrowed[peerCpu >> 6] &= ~(1UL << (peerCpu & 63));
        fixed (ulong* m = _narrowed)
        {
            if (SchedSetaffinity(0, MaskWords * sizeof(ulong), m) != 0) return false;
        }
        _narrowedNow = true;
        AvoidedCpu = peerCpu;
        Moves++;
        return true;
    }

    /// <summary>Gives the thread back the CPUs it had at construction.</summary>
    public void Restore()
    {
        if (!_narrowedNow) return;
        fixed (ulong* m = _original)
        {
            _ = SchedSetaffinity(0, MaskWords * sizeof(ulong), m);
        }
        _narrowedNow = false;
    }

    static int Count(ulong[] mask)
    {
        int n = 0;
        foreach (ulong w in mask) n += BitOperations.PopCount(w);
        return n;
    }

    // pid 0 = the calling thread (sched_setaffinity(2) works on thread ids).
    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static partial int SchedGetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SchedSetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    private static partial int SchedGetcpu();
}
