using System.Runtime.InteropServices;

namespace Vtpm.Frontend;

/// <summary>
/// The libc calls behind a ring's sealed memory (memfd_create(2), fcntl(2) file seals, ftruncate(2), statx(2),
/// open(2) of /proc/PID/fd/N, mmap(2)) and its serve thread's placement (sched_setaffinity(2), sched_getcpu(3)). Constants from /usr/include (linux/memfd.h, linux/fcntl.h,
/// asm-generic/mman-common.h, asm-generic/fcntl.h, linux/stat.h); they are the same on x86_64 and arm64.
/// </summary>
internal static unsafe partial class Libc
{
    public const uint MfdCloexec = 0x1, MfdAllowSealing = 0x2;
    public const int FAddSeals = 1024 + 9, FGetSeals = 1024 + 10;
    public const int FSealSeal = 0x1, FSealShrink = 0x2, FSealGrow = 0x4, FSealWrite = 0x8, FSealFutureWrite = 0x10;
    public const int ProtRead = 0x1, ProtWrite = 0x2, MapShared = 0x1, MapPopulate = 0x8000;
    public const int ORdwr = 0x2, ONoctty = 0x100, ONonblock = 0x800, OCloexec = 0x80000;
    public const int AtFdcwd = -100, AtEmptyPath = 0x1000;
    public const uint StatxType = 0x1, StatxMode = 0x2, StatxUid = 0x8, StatxIno = 0x100, StatxSize = 0x200;
    public const int AtSymlinkNofollow = 0x100;
    public const int SIfdir = 0x4000, SIsvtx = 0x200, SIwgrp = 0x10, SIwoth = 0x2;
    public const int SIfmt = 0xF000, SIfreg = 0x8000;
    public const int Eperm = 1, Enoent = 2, Eacces = 13;

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
    }

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    // fcntl is variadic; its integer third argument is passed as for a fixed-argument call on x86_64 and arm64 Linux.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    // open is variadic too; without O_CREAT the mode argument is not read.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatxCall(int directoryFd, string path, int flags, uint mask, Statx* result);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint Geteuid();

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    /// <summary>cpu_set_t as glibc sizes it (1024 CPUs), in 64-bit words; the kernel accepts any multiple of the word size.</summary>
    public const int CpuSetWords = 16;

    // pid 0 = the calling thread (the affinity calls work on thread ids).
    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    public static partial int SchedGetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    public static partial int SchedSetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    public static partial int SchedGetcpu();

    /// <summary>errno of the last failed call above, as text ("EPERM (1)"…) for log lines.</summary>
    public static string LastError() => Describe(Marshal.GetLastPInvokeError());

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
