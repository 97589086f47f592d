using System.Runtime.InteropServices;

namespace Vtpm.Frontend;

/// <summary>
/// Notices the peer process's death without polling: a pidfd (pidfd_open(2), Linux ≥ 5.3) becomes readable
/// when the process exits. A thread sleeps in poll(2) on it and on an eventfd(2) that Dispose signals, so it
/// never wakes for nothing (an idle ring costs no CPU), and runs a callback once, typically a doorbell nudge so
/// the side waiting on the ring wakes at once.
/// </summary>
internal sealed unsafe partial class PeerWatch : IDisposable
{
    const long SysPidfdOpen = 434; // same number on x86_64 and arm64
    const short PollIn = 1;
    const int EfdCloexec = 0x80000; // = O_CLOEXEC

    [StructLayout(LayoutKind.Sequential)]
    struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long PidfdOpen(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, ulong* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    readonly Thread? _thread;
    readonly int _fd;
    readonly int _stopFd = -1;
    readonly object _gate = new();
    bool _closed;
    volatile bool _stop;

    /// <summary>True once the watched process has exited (or could not be watched because it is gone).</summary>
    public bool Exited { get; private set; }

    public PeerWatch(int pid, Action onExit)
    {
        _fd = (int)PidfdOpen(SysPidfdOpen, pid, 0);
        if (_fd < 0)
        {
            // ESRCH: already gone. Other errors (old kernel): fall back to the callers' slow liveness checks.
            if (Marshal.GetLastPInvokeError() == 3)
            {
                Exited = true;
                onExit();
            }
            return;
        }
        _stopFd = EventFd(0, EfdCloexec);
        _thread = new Thread(() =>
        {
            PollFd* p = stackalloc PollFd[2];
            p[0] = new PollFd { Fd = _fd, Events = PollIn };
            p[1] = new PollFd { Fd = _stopFd, Events = PollIn };
            try
            {
                // Without an eventfd (should not happen) the thread still looks at the stop flag every 10 s.
                int timeout = _stopFd >= 0 ? -1 : 10_000;
                while (!_stop)
                {
                    int r = Poll(p, _stopFd >= 0 ? 2u : 1u, timeout);
                    if (r > 0 && (p[0].Revents & PollIn) != 0)
                    {
                        Exited = true;
                        if (!_stop) onExit();
                        return;
                    }
                    if (r > 0 && (p[1].Revents & PollIn) != 0) return;
                }
            }
            finally
            {
                // The thread owns both descriptors; the gate keeps Dispose from writing to a closed (and maybe
                // reused) descriptor number.
                lock (_gate)
                {
                    _closed = true;
                    _ = Close(_fd);
                    if (_stopFd >= 0) _ = Close(_stopFd);
                }
            }
        }) { IsBackground = true, Name = $"peer {pid} watch" };
        _thread.Start();
    }

    /// <summary>Stops watching: the callback will not run any more; the thread exits at once.</summary>
    public void Dispose()
    {
        _stop = true;
        if (_thread is null || _stopFd < 0) return;
        lock (_gate)
        {
            if (_closed) return;
            ulong one = 1;
            _ = Write(_stopFd, &one, sizeof(ulong));
        }
    }
}
