using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Vtpm.Frontend;

/// <summary>tpmif request states (xen/include/public/io/tpmif.h, TPMIF_STATE_*).</summary>
public enum TpmifState : byte
{
    /// <summary>Nothing pending, or the last request was cancelled. Written by the backend.</summary>
    Idle = 0,
    /// <summary>A request is in the page. Written by the frontend.</summary>
    Submit = 1,
    /// <summary>The response is in the page. Written by the backend.</summary>
    Finish = 2,
    /// <summary>The frontend asks the backend to stop the request. Written by the frontend.</summary>
    Cancel = 3,
}

/// <summary>
/// The granted pages of one tpmif connection: a sealed memfd created by the frontend and mapped by both
/// processes (the stand-in for a Xen grant). Layout, in 4096-byte pages:
/// <list type="bullet">
/// <item>page 0: <c>struct tpmif_shared_page</c> — u32 length (native order), u8 state, u8 locality, u8 pad,
/// u8 nr_extra_pages, u32 extra_pages[nr_extra_pages] (page references), then data;</item>
/// <item>pages 1 … RingPages−1: extra pages, referenced by their index in the file, whose content continues
/// the data area as if they followed page 0 (tpmif.h);</item>
/// <item>page RingPages: the doorbells (event channels), each a u32 kick counter followed by a u32 sleeper
/// count: frontend→backend kick at 0, backend→frontend kick at 64, frontend→backend cancel at 128, "my keys
/// changed" at 192 (a Xenstore watch firing, so a side closing is noticed without polling the store); at 256
/// the CPU the frontend last submitted from (a hint for <see cref="PeerCpuAvoidance"/>, nothing more).</item>
/// </list>
/// Why a sealed memfd and not a file in /dev/shm: a peer that can ftruncate a mapped file makes the other
/// side's next access to the mapping raise SIGBUS, which kills a .NET process. The frontend creates the
/// memory with memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING), sizes it and adds F_SEAL_SHRINK | F_SEAL_GROW |
/// F_SEAL_SEAL before publishing it, so nobody (the frontend included) can change its size again; the backend
/// maps it only after checking those seals and the exact size on its own descriptor. The memory has no name
/// in any file system: it disappears with the last mapping, so nothing can be left behind.
/// Every access through this class is a single read or write; protocol code copies what it needs out once.
/// </summary>
public sealed unsafe class SharedRing : IDisposable
{
    public const int PageSize = 4096;
    public const int HeaderSize = 8;

    /// <summary>Largest number of extra pages a ring may have (limits the mapping a peer can ask us to take).</summary>
    public const int MaxExtraPages = 15;

    /// <summary>Name prefix of ring memfds (shown as /memfd:vtpm-tpmif-… in /proc/PID/maps and /proc/PID/fd).</summary>
    public const string FilePrefix = "vtpm-tpmif-";

    /// <summary>Where ring files lived before rings were memfds; nothing is created there any more.</summary>
    public const string ShmDirectory = "/dev/shm";

    /// <summary>The seals a backend requires before it maps a ring.</summary>
    public const int RequiredSeals = Libc.FSealShrink | Libc.FSealGrow | Libc.FSealSeal;

    const int FrontKickOffset = 0, BackKickOffset = 64, CancelKickOffset = 128, ControlKickOffset = 192, FrontCpuOffset = 256;

    byte* _base;
    readonly nuint _length;
    readonly object _gate = new(); // orders nudges (any thread) against Dispose's munmap
    int _fd;
    int _disposed;

    /// <summary>Ring pages (page 0 plus extra pages); the doorbell page follows them.</summary>
    public int RingPages { get; }

    /// <summary>The frontend's descriptor of the memfd (published as ring-ref), −1 once closed or on the backend.</summary>
    public int Descriptor => Volatile.Read(ref _fd);

    /// <summary>The memfd's inode number: identifies this ring in log lines and rejection lists.</summary>
    public ulong Inode { get; }

    SharedRing(byte* mapping, nuint length, int ringPages, int fd, ulong inode)
    {
        _base = mapping;
        _length = length;
        RingPages = ringPages;
        _fd = fd;
        Inode = inode;
    }

    /// <summary>File size for a ring of <paramref name="ringPages"/> pages (plus the doorbell page).</summary>
    public static long FileSize(int ringPages) => (long)(ringPages + 1) * PageSize;

    /// <summary>Data capacity of a request that grants <paramref name="extraPages"/> extra pages.</summary>
    public static int Capacity(int extraPages) => PageSize - HeaderSize - 4 * extraPages + extraPages * PageSize;

    /// <summary>
    /// Frontend: creates a sealed memfd named <c>vtpm-tpmif-<paramref name="label"/></c> of
    /// <see cref="FileSize"/> bytes (zeroed: a zeroed page is IDLE) and maps it. The descriptor stays open
    /// (<see cref="Descriptor"/>) until <see cref="CloseDescriptor"/>, so the backend can open it.
    /// </summary>
    /// <exception cref="IOException">A system call failed.</exception>
    public static SharedRing Create(int ringPages, string label)
    {
        if (ringPages is < 1 or > MaxExtraPages + 1) throw new ArgumentOutOfRangeException(nameof(ringPages));
        int fd = Libc.MemfdCreate(FilePrefix + label, Libc.MfdCloexec | Libc.MfdAllowSealing);
        if (fd < 0) throw new IOException($"memfd_create: {Libc.LastError()}");
        try
        {
            long size = FileSize(ringPages);
            if (Libc.Ftruncate(fd, size) != 0) throw new IOException($"ftruncate: {Libc.LastError()}");
            if (Libc.Fcntl(fd, Libc.FAddSeals, RequiredSeals) != 0) throw new IOException($"F_ADD_SEALS: {Libc.LastError()}");
            Libc.Statx st;
            if (Libc.StatxCall(fd, "", Libc.AtEmptyPath, Libc.StatxIno, &st) != 0) throw new IOException($"statx: {Libc.LastError()}");
            return new SharedRing(Map(fd, size), (nuint)size, ringPages, fd, st.Inode);
        }
        catch
        {
            _ = Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Backend: maps the ring a frontend published as descriptor <paramref name="fd"/> of process
    /// <paramref name="identity"/> ("pid:starttime", the frontend's registered owner) by opening
    /// /proc/PID/fd/FD. Refused unless the owner is that very process (before and after the open), the
    /// descriptor names a regular file, the file we opened is the one we checked, it carries the seals
    /// F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL and no write seal (only a memfd can), and its size is exactly
    /// <see cref="FileSize"/>(<paramref name="ringPages"/>). So its size can never change under our mapping.
    /// </summary>
    /// <exception cref="InvalidDataException">The reference does not name an acceptable ring (the message says why).</exception>
    public static SharedRing Open(string identity, int fd, int ringPages)
    {
        if (ringPages is < 1 or > MaxExtraPages + 1) throw new InvalidDataException($"ring-pages {ringPages} outside 1..{MaxExtraPages + 1}");
        var parts = identity.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) || pid <= 0)
            throw new InvalidDataException($"frontend pid key '{identity}' is not pid:starttime");
        if (fd < 0) throw new InvalidDataException($"ring-ref {fd} is not a descriptor number");
        if (!ProcessIdentity.IsRunning(identity)) throw new InvalidDataException($"frontend process {identity} is not running");
        string link = $"/proc/{pid}/fd/{fd}";
        long size = FileSize(ringPages);
        Libc.Statx before;
        if (Libc.StatxCall(Libc.AtFdcwd, link, 0, Libc.StatxType | Libc.StatxIno | Libc.StatxSize, &before) != 0)
            throw new InvalidDataException($"{link}: {Libc.LastError()}");
        if ((before.Mode & Libc.SIfmt) != Libc.SIfreg)
            throw new InvalidDataException($"{link} ({Target(link)}) is not a regular file (mode 0{Convert.ToString(before.Mode, 8)})");
        // O_NONBLOCK | O_NOCTTY: even if the descriptor were swapped for a FIFO or a terminal after the check,
        // the open neither blocks nor takes a controlling terminal; the checks on our own descriptor follow.
        int own = Libc.Open(link, Libc.ORdwr | Libc.OCloexec | Libc.ONoctty | Libc.ONonblock);
        if (own < 0) throw new InvalidDataException($"cannot open {link}: {Libc.LastError()}");
        try
        {
            Libc.Statx st;
            if (Libc.StatxCall(own, "", Libc.AtEmptyPath, Libc.StatxType | Libc.StatxIno | Libc.StatxSize, &st) != 0)
                throw new InvalidDataException($"statx of {link}: {Libc.LastError()}");
            if ((st.Mode & Libc.SIfmt) != Libc.SIfreg || st.Inode != before.Inode)
                throw new InvalidDataException($"{link} changed while it was being opened");
            if (!ProcessIdentity.IsRunning(identity))
                throw new InvalidDataException($"frontend process {identity} exited while its ring was being opened");
            int seals = Libc.Fcntl(own, Libc.FGetSeals, 0);
            if (seals < 0)
                throw new InvalidDataException($"{link} ({Target(link)}) is not a sealable memfd: F_GET_SEALS: {Libc.LastError()}");
            if ((seals & RequiredSeals) != RequiredSeals)
                throw new InvalidDataException($"{link} ({Target(link)}) is not sealed against resizing (seals 0x{seals:x}, need F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL = 0x{RequiredSeals:x})");
            if ((seals & (Libc.FSealWrite | Libc.FSealFutureWrite)) != 0)
                throw new InvalidDataException($"{link} is sealed against writing (seals 0x{seals:x})");
            if ((long)st.Size != size)
                throw new InvalidDataException($"ring is {st.Size} bytes, expected {size} for {ringPages} ring pages");
            return new SharedRing(Map(own, size), (nuint)size, ringPages, -1, st.Inode);
        }
        finally
        {
            // The mapping keeps the memory; our descriptor is not needed any more.
            _ = Libc.Close(own);
        }
    }

    /// <summary>The inode behind descriptor <paramref name="fd"/> of process <paramref name="pid"/>, 0 if it cannot be seen.</summary>
    public static ulong ProbeInode(int pid, int fd)
    {
        if (fd < 0) return 0;
        Libc.Statx st;
        return Libc.StatxCall(Libc.AtFdcwd, $"/proc/{pid}/fd/{fd}", 0, Libc.StatxIno, &st) == 0 ? st.Inode : 0;
    }

    static byte* Map(int fd, long size)
    {
        // MAP_POPULATE: every page is allocated and mapped now, not at first touch in the middle of a request.
        nint p = Libc.Mmap(0, (nuint)size, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared | Libc.MapPopulate, fd, 0);
        if (p == -1) throw new IOException($"mmap: {Libc.LastError()}");
        return (byte*)p;
    }

    static string Target(string link)
    {
        try { return new FileInfo(link).LinkTarget ?? "?"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>
    /// Frontend: closes its descriptor once the backend has mapped the ring (or is gone). The mappings stay
    /// valid; the memory is freed when the last one goes.
    /// </summary>
    public void CloseDescriptor()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) _ = Libc.Close(fd);
    }

    byte* Base => _base != null && Volatile.Read(ref _disposed) == 0 ? _base : throw new ObjectDisposedException(nameof(SharedRing));

    /// <summary>Start of page <paramref name="index"/> (0 = the shared page).</summary>
    public byte* PagePointer(int index)
    {
        if ((uint)index >= (uint)RingPages) throw new ArgumentOutOfRangeException(nameof(index));
        return Base + (long)index * PageSize;
    }

    /// <summary>The 8-byte header of page 0, read once (one 64-bit load, so its fields are mutually consistent).</summary>
    public PageHeader ReadHeader() => new(Volatile.Read(ref *(ulong*)Base));

    /// <summary>The state byte alone.</summary>
    public TpmifState State => (TpmifState)Volatile.Read(ref Base[4]);

    /// <summary>Writes the state byte with release semantics (everything written before is visible first).</summary>
    public void SetState(TpmifState s) => Volatile.Write(ref Base[4], (byte)s);

    /// <summary>Frontend cancel: SUBMIT → CANCEL atomically, so a FINISH the backend just wrote is never overwritten.</summary>
    public bool TryCancel()
    {
        ref int word = ref *(int*)(Base + 4);
        while (true)
        {
            int current = Volatile.Read(ref word);
            if ((byte)current != (byte)TpmifState.Submit) return false;
            int desired = (current & ~0xFF) | (byte)TpmifState.Cancel;
            if (Interlocked.CompareExchange(ref word, desired, current) == current) return true;
        }
    }

    /// <summary>Writes length, locality, pad and nr_extra_pages (state untouched).</summary>
    public void WriteRequestHeader(uint length, byte locality, byte extraPages)
    {
        var b = Base;
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(b, 4), length);
        b[5] = locality;
        b[6] = 0;
        b[7] = extraPages;
    }

    /// <summary>Writes the response length (native order, as tpmif).</summary>
    public void WriteLength(uint length) => BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(Base, 4), length);

    /// <summary>Writes extra_pages[i].</summary>
    public void WritePageRef(int i, uint reference) =>
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(Base + HeaderSize + 4 * i, 4), reference);

    /// <summary>Copies extra_pages[0..n) out (n ≤ MaxExtraPages, checked by the caller) in one pass.</summary>
    public void ReadPageRefs(Span<uint> refs)
    {
        var src = new ReadOnlySpan<byte>(Base + HeaderSize, 4 * refs.Length);
        for (int i = 0; i < refs.Length; i++) refs[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]);
    }

    /// <summary>
    /// Copies <paramref name="local"/> into the data area described by <paramref name="refs"/> (validated page
    /// indexes): page 0 from offset 8 + 4n, then each referenced page in order.
    /// </summary>
    public void CopyToPages(ReadOnlySpan<uint> refs, ReadOnlySpan<byte> local)
    {
        int offset = HeaderSize + 4 * refs.Length;
        int chunk = Math.Min(local.Length, PageSize - offset);
        local[..chunk].CopyTo(new Span<byte>(PagePointer(0) + offset, chunk));
        int done = chunk;
        for (int i = 0; done < local.Length; i++)
        {
            if (i >= refs.Length) throw new ArgumentOutOfRangeException(nameof(local), "data exceeds the granted pages");
            chunk = Math.Min(local.Length - done, PageSize);
            local.Slice(done, chunk).CopyTo(new Span<byte>(PagePointer((int)refs[i]), chunk));
            done += chunk;
        }
    }

    /// <summary>Copies the data area described by <paramref name="refs"/> out into <paramref name="local"/> (its whole length).</summary>
    public void CopyFromPages(ReadOnlySpan<uint> refs, Span<byte> local)
    {
        int offset = HeaderSize + 4 * refs.Length;
        int chunk = Math.Min(local.Length, PageSize - offset);
        new ReadOnlySpan<byte>(PagePointer(0) + offset, chunk).CopyTo(local);
        int done = chunk;
        for (int i = 0; done < local.Length; i++)
        {
            if (i >= refs.Length) throw new ArgumentOutOfRangeException(nameof(local), "data exceeds the granted pages");
            chunk = Math.Min(local.Length - done, PageSize);
            new ReadOnlySpan<byte>(PagePointer((int)refs[i]), chunk).CopyTo(local.Slice(done, chunk));
            done += chunk;
        }
    }

    uint* Word(int offset) => (uint*)(Base + (long)RingPages * PageSize + offset);

    /// <summary>Current frontend→backend kick count (read it before checking the state, then wait on it).</summary>
    public uint FrontKicks => Volatile.Read(ref *Word(FrontKickOffset));
    public uint BackKicks => Volatile.Read(ref *Word(BackKickOffset));
    public uint CancelKicks => Volatile.Read(ref *Word(CancelKickOffset));
    public uint ControlKicks => Volatile.Read(ref *Word(ControlKickOffset));

    /// <summary>The CPU the frontend submitted its last request from (written by the frontend; any value from a hostile one).</summary>
    public int FrontendCpu
    {
        get => Volatile.Read(ref *(int*)Word(FrontCpuOffset));
        set => Volatile.Write(ref *(int*)Word(FrontCpuOffset), value);
    }

    /// <summary>Frontend → backend event: content-free, the backend re-reads the state.</summary>
    public void KickBackend() => Kick(FrontKickOffset);
    public void KickFrontend() => Kick(BackKickOffset);
    public void KickCancel() => Kick(CancelKickOffset);
    public void KickControl() => Kick(ControlKickOffset);

    public void WaitFrontKick(uint seen, int timeoutMs) => Wait(FrontKickOffset, seen, timeoutMs);
    public void WaitBackKick(uint seen, int timeoutMs) => Wait(BackKickOffset, seen, timeoutMs);
    public void WaitCancelKick(uint seen, int timeoutMs) => Wait(CancelKickOffset, seen, timeoutMs);
    public void WaitControlKick(uint seen, int timeoutMs) => Wait(ControlKickOffset, seen, timeoutMs);

    /// <summary>
    /// Wakes our own side's waiter on a doorbell (a local nudge: re-check the peer, or stop). It bumps the
    /// counter as a kick does, so a waiter between its last look and FUTEX_WAIT cannot miss it (a wake-up alone
    /// would be lost there), and always enters the kernel, whatever the sleeper word says: our own wake-ups
    /// never depend on the peer's honesty. Waiters treat every wake-up as "look again", so the extra count is
    /// harmless to either side. Safe from any thread at any time, also during or after Dispose (then it does
    /// nothing): nudges come from watcher threads that may race with teardown.
    /// </summary>
    public void NudgeFrontKickWaiters() => Nudge(FrontKickOffset);
    public void NudgeBackKickWaiters() => Nudge(BackKickOffset);
    public void NudgeCancelWaiters() => Nudge(CancelKickOffset);
    public void NudgeControlWaiters() => Nudge(ControlKickOffset);

    void Nudge(int offset)
    {
        lock (_gate)
        {
            if (_disposed != 0) return;
            uint* w = Word(offset);
            Interlocked.Increment(ref *(int*)w);
            Futex.WakeAll(w);
        }
    }

    // A doorbell is two words: the kick counter at offset X and, at X + 4, the number of threads of the
    // waiting side that are (about to be) asleep on it. The kicker enters the kernel only when that number is
    // not zero, so a round trip between two awake (spinning) sides costs no system call at all.
    //
    // Why no wake-up is lost (Dekker's pattern; both steps are full fences on every architecture .NET runs
    // on: lock-prefixed instructions on x86, ldaxr/stlxr + dmb on arm64):
    //   waiter:  sleepers += 1 (Interlocked)  →  FUTEX_WAIT(counter, seen)  →  sleepers -= 1
    //   kicker:  counter += 1  (Interlocked)  →  read sleepers  →  FUTEX_WAKE if non-zero
    // If the kicker reads sleepers = 0, its increment precedes the waiter's increment in the single order of
    // the two atomic operations, so the waiter's FUTEX_WAIT, which starts later, finds counter ≠ seen (the
    // kernel compares the word under its hash-bucket lock) and returns at once with EAGAIN. Otherwise the
    // kicker wakes it, or the kernel's comparison fails for the same reason. The waiter reads `seen` before
    // looking at the ring state, so a kick between that look and the wait is never missed either.
    //
    // The sleeper word of a doorbell we wait on is written by us and only read by the peer; a hostile peer that
    // scribbles on it only decides whether its own kicks wake us (it can delay its own requests, nothing else).
    // Our waits always end by timeout, by a kick that finds the word non-zero, or by a local nudge (pidfd,
    // Dispose), which never consults the word.
    void Kick(int offset)
    {
        uint* w = Word(offset);
        Interlocked.Increment(ref *(int*)w);
        if (Volatile.Read(ref *(int*)Word(offset + 4)) != 0) Futex.WakeAll(w);
    }

    void Wait(int offset, uint seen, int timeoutMs)
    {
        uint* w = Word(offset);
        int* sleepers = (int*)Word(offset + 4);
        Interlocked.Increment(ref *sleepers);
        try
        {
            if (Volatile.Read(ref *w) == seen) Futex.Wait(w, seen, timeoutMs);
        }
        finally
        {
            Interlocked.Decrement(ref *sleepers);
        }
    }

    /// <summary>
    /// Unmaps the ring (and closes the frontend's descriptor). Callers make sure no other thread still reads or
    /// writes through it (nudges excepted); afterwards every access throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            byte* b = _base;
            _base = null;
            if (b != null) _ = Libc.Munmap((nint)b, _length);
        }
        CloseDescriptor();
    }
}

/// <summary>One consistent copy of the 8-byte tpmif header.</summary>
public readonly struct PageHeader(ulong raw)
{
    /// <summary>u32 length at offset 0, native (little-endian) order.</summary>
    public uint Length => (uint)raw;
    public TpmifState State => (TpmifState)(byte)(raw >> 32);
    public byte Locality => (byte)(raw >> 40);
    public byte Pad => (byte)(raw >> 48);
    public byte ExtraPages => (byte)(raw >> 56);

    [SkipLocalsInit]
    public override string ToString() => $"length={Length} state={(byte)State} locality={Locality} pad={Pad} nr_extra_pages={ExtraPages}";
}
