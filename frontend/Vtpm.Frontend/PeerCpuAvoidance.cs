using System.Numerics;

namespace Vtpm.Frontend;

/// <summary>
/// Moves the calling thread (tpmback's serve thread) off the CPU its frontend runs on. Polling only pays when
/// the two sides run at the same time on different CPUs; once both have slept a few times, the scheduler tends
/// to wake each onto the other's CPU and keeps them there (measured on a 2-vCPU VM: half the runs went from
/// ~1 µs round trips to 12 µs futex ping-pong for the rest of the run; pinning the two apart by hand removed
/// that mode). So when the serve thread, woken from its doorbell, finds itself on the CPU the frontend wrote
/// into the doorbell page with its last request, it narrows its affinity to its own CPUs minus that one, which
/// migrates it at once, and then gives itself its whole set back. It is not left pinned: on a loaded machine
/// the scheduler stays free to place it, and a later co-location is simply undone again. The frontend's thread
/// is never touched (it belongs to the client).
/// <para>
/// The CPU number comes from the peer: a value outside the thread's set is ignored, so a hostile frontend can
/// at most make the serve thread hop between CPUs it may use anyway. With fewer than two CPUs there is nothing
/// to do.
/// </para>
/// </summary>
internal sealed unsafe class PeerCpuAvoidance
{
    const int MaskWords = Libc.CpuSetWords;

    readonly ulong[] _allowed = new ulong[MaskWords];
    readonly ulong[] _narrowed = new ulong[MaskWords];
    readonly bool _usable;

    /// <summary>How often the thread moved off its frontend's CPU (diagnostics and tests).</summary>
    public int Moves { get; private set; }

    /// <summary>The CPU the frontend was on at the last move, −1 before any.</summary>
    public int AvoidedCpu { get; private set; } = -1;

    /// <summary>Captures the calling thread's allowed CPUs; call it on the thread it will move.</summary>
    public PeerCpuAvoidance()
    {
        fixed (ulong* m = _allowed)
        {
            _usable = Libc.SchedGetaffinity(0, MaskWords * sizeof(ulong), m) == 0 && Count(_allowed) >= 2;
        }
    }

    /// <summary>
    /// Called on the serve thread after it woke for a request: if it runs on <paramref name="peerCpu"/>, move to
    /// another of its CPUs. True when the thread moved.
    /// </summary>
    public bool AvoidPeer(int peerCpu)
    {
        if (!_usable || (uint)peerCpu >= MaskWords * 64 || (_allowed[peerCpu >> 6] & (1UL << (peerCpu & 63))) == 0) return false;
        if (Libc.SchedGetcpu() != peerCpu) return false;
        _allowed.CopyTo(_narrowed, 0);
        _narrowed[peerCpu >> 6] &= ~(1UL << (peerCpu & 63));
        int moved;
        fixed (ulong* m = _narrowed)
        {
            moved = Libc.SchedSetaffinity(0, MaskWords * sizeof(ulong), m);
        }
        // The migration happened inside the call above (a running thread is moved before it returns); widening
        // the set again does not move it back.
        fixed (ulong* m = _allowed)
        {
            _ = Libc.SchedSetaffinity(0, MaskWords * sizeof(ulong), m);
        }
        if (moved != 0) return false;
        AvoidedCpu = peerCpu;
        Moves++;
        return true;
    }

    static int Count(ulong[] mask)
    {
        int n = 0;
        foreach (ulong w in mask) n += BitOperations.PopCount(w);
        return n;
    }
}
