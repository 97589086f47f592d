using System.Runtime.InteropServices;

namespace Vtpm.Frontend;

/// <summary>
/// Notices the peer process's death without polling: a pidfd (pidfd_open(2), Linux ≥ 5.3) becomes readable
/// when the process exits. A thread sleeps in poll(2) on it (waking every 10 s to see whether it should
/// stop) and runs a callback once, typically a doorbell kick so the side waiting on the ring wakes at once.
/// </summary>
internal sealed unsafe partial class PeerWatch : IDisposable
{
    const long SysPidfdOpen = 434; // same number on x86_64 and arm64
    const short PollIn = 1;

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

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    readonly Thread? _thread;
    readonly int _fd;
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
        _thread = new Thread(() =>
        {
            var p = new PollFd { Fd = _fd, Events = PollIn };
            try
            {
                while (!_stop)
                {
                    int r = Poll(&p, 1, 10_000);
                    if (r > 0 && (p.Revents & PollIn) != 0)
                    {
                        Exited = true;
                        if (!_stop) onExit();
                        return;
                    }
                }
            }
            finally
            {
                // The thread owns the descriptor: Dispose does not wait for the poll to time out.
                _ = Close(_fd);
            }
        }) { IsBackground = true, Name = $"peer {pid} watch" };
        _thread.Start();
    }

    /// <summary>Stops watching: the callback will not run any more; the thread exits within 10 s.</summary>
    public void Dispose() => _stop = true;
}
