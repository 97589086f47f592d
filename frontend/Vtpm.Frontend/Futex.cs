using System.Runtime.InteropServices;

namespace Vtpm.Frontend;

/// <summary>
/// The doorbell primitive: futex(2) on a 32-bit word in the shared mapping. Non-private operations
/// (no FUTEX_PRIVATE_FLAG) because the word is shared between processes; the kernel keys the wait queue
/// on the backing page, so both mappings of the same file meet on it.
/// </summary>
internal static unsafe partial class Futex
{
    const int FutexWait = 0, FutexWake = 1;

    // SYS_futex: 202 on x86_64, 98 on arm64 (asm-generic numbering).
    static readonly long SysFutex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        var a => throw new PlatformNotSupportedException($"futex syscall number unknown for {a}"),
    };

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, uint* address, int op, uint value, Timespec* timeout, nint address2, uint value3);

    /// <summary>
    /// Sleeps while <c>*address == expected</c>, at most <paramref name="timeoutMs"/> ms (<see cref="Timeout.Infinite"/>:
    /// no limit). Returns at once if the word already differs (EAGAIN); spurious wake-ups are possible, so
    /// callers re-check their condition.
    /// </summary>
    public static void Wait(uint* address, uint expected, int timeoutMs)
    {
        var ts = new Timespec { Seconds = timeoutMs / 1000, Nanoseconds = timeoutMs % 1000 * 1_000_000L };
        _ = Syscall(SysFutex, address, FutexWait, expected, timeoutMs == Timeout.Infinite ? null : &ts, 0, 0);
    }

    /// <summary>Wakes every waiter on <paramref name="address"/>.</summary>
    public static void WakeAll(uint* address) => _ = Syscall(SysFutex, address, FutexWake, int.MaxValue, null, 0, 0);
}
