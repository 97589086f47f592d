using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
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
/// The granted pages of one tpmif connection, as a file under /dev/shm mapped by both processes
/// (the stand-in for a Xen grant). File layout, in 4096-byte pages:
/// <list type="bullet">
/// <item>page 0: <c>struct tpmif_shared_page</c> — u32 length (native order), u8 state, u8 locality, u8 pad,
/// u8 nr_extra_pages, u32 extra_pages[nr_extra_pages] (page references), then data;</item>
/// <item>pages 1 … RingPages−1: extra pages, referenced by their index in the file, whose content continues
/// the data area as if they followed page 0 (tpmif.h);</item>
/// <item>page RingPages: the doorbells (event channels): u32 frontend→backend kick counter at 0, u32
/// backend→frontend kick counter at 64, u32 frontend→backend cancel counter at 128, u32 "my keys changed"
/// counter at 192 (a Xenstore watch firing, so a side closing is noticed without polling the store).</item>
/// </list>
/// Every access through this class is a single read or write; protocol code copies what it needs out once.
/// </summary>
public sealed unsafe class SharedRing : IDisposable
{
    public const int PageSize = 4096;
    public const int HeaderSize = 8;

    /// <summary>Largest number of extra pages a ring may have (limits the mapping a peer can ask us to take).</summary>
    public const int MaxExtraPages = 15;

    /// <summary>Name prefix of ring files: backends only accept (and only clean up) files named like this in /dev/shm.</summary>
    public const string FilePrefix = "vtpm-tpmif-";
    public const string ShmDirectory = "/dev/shm";

    const int FrontKickOffset = 0, BackKickOffset = 64, CancelKickOffset = 128, ControlKickOffset = 192;

    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    byte* _base;
    int _disposed;

    /// <summary>Ring pages (page 0 plus extra pages); the doorbell page follows them.</summary>
    public int RingPages { get; }

    public string Path { get; }

    SharedRing(string path, MemoryMappedFile file, int ringPages)
    {
        Path = path;
        _file = file;
        RingPages = ringPages;
        _view = file.CreateViewAccessor(0, (long)(ringPages + 1) * PageSize, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        _base += _view.PointerOffset;
    }

    /// <summary>File size for a ring of <paramref name="ringPages"/> pages (plus the doorbell page).</summary>
    public static long FileSize(int ringPages) => (long)(ringPages + 1) * PageSize;

    /// <summary>Data capacity of a request that grants <paramref name="extraPages"/> extra pages.</summary>
    public static int Capacity(int extraPages) => PageSize - HeaderSize - 4 * extraPages + extraPages * PageSize;

    /// <summary>Frontend: creates (zeroed, mode 0600) and maps a new ring file. A zeroed page is IDLE.</summary>
    public static SharedRing Create(string path, int ringPages)
    {
        if (ringPages is < 1 or > MaxExtraPages + 1) throw new ArgumentOutOfRangeException(nameof(ringPages));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var fs = new FileStream(path, options);
        try
        {
            fs.SetLength(FileSize(ringPages));
            var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new SharedRing(path, mmf, ringPages);
        }
        catch
        {
            fs.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Backend: maps a ring file the frontend published. The path must name a regular file (no link) directly
    /// in /dev/shm with the ring prefix, and its size must match <paramref name="ringPages"/> exactly.
    /// </summary>
    /// <exception cref="InvalidDataException">The reference does not name an acceptable ring.</exception>
    public static SharedRing Open(string path, int ringPages)
    {
        if (!IsAcceptablePath(path)) throw new InvalidDataException($"ring-ref '{path}' is not a {ShmDirectory}/{FilePrefix}* file");
        if (ringPages is < 1 or > MaxExtraPages + 1) throw new InvalidDataException($"ring-pages {ringPages} outside 1..{MaxExtraPages + 1}");
        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null) throw new InvalidDataException($"ring-ref '{path}' is not a regular file");
        var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            if (fs.Length != FileSize(ringPages)) throw new InvalidDataException($"ring file is {fs.Length} bytes, expected {FileSize(ringPages)}");
            var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new SharedRing(path, mmf, ringPages);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>True for /dev/shm/vtpm-tpmif-[A-Za-z0-9._-]+ (the only files a backend maps or deletes).</summary>
    public static bool IsAcceptablePath(string path)
    {
        if (System.IO.Path.GetDirectoryName(path) != ShmDirectory) return false;
        string name = System.IO.Path.GetFileName(path);
        if (!name.StartsWith(FilePrefix, StringComparison.Ordinal) || name.Length == FilePrefix.Length) return false;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return name is not ("." or "..");
    }

    /// <summary>Unlinks the file; the mappings stay valid (the pages live until both sides unmap).</summary>
    public void Unlink()
    {
        try { File.Delete(Path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
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
    /// Copies between a local buffer and the data area described by <paramref name="refs"/> (validated page
    /// indexes): page 0 from offset 8 + 4n, then each referenced page in order.
    /// </summary>
    public void CopyData(ReadOnlySpan<uint> refs, Span<byte> local, bool toPage)
    {
        int offset = HeaderSize + 4 * refs.Length;
        int done = 0;
        int chunk = Math.Min(local.Length, PageSize - offset);
        Move(PagePointer(0) + offset, local[..chunk], toPage);
        done += chunk;
        for (int i = 0; done < local.Length; i++)
        {
            if (i >= refs.Length) throw new ArgumentOutOfRangeException(nameof(local), "data exceeds the granted pages");
            chunk = Math.Min(local.Length - done, PageSize);
            Move(PagePointer((int)refs[i]), local.Slice(done, chunk), toPage);
            done += chunk;
        }
    }

    static void Move(byte* page, Span<byte> local, bool toPage)
    {
        var shared = new Span<byte>(page, local.Length);
        if (toPage) local.CopyTo(shared);
        else shared.CopyTo(local);
    }

    uint* Word(int offset) => (uint*)(Base + (long)RingPages * PageSize + offset);

    /// <summary>Current frontend→backend kick count (read it before checking the state, then wait on it).</summary>
    public uint FrontKicks => Volatile.Read(ref *Word(FrontKickOffset));
    public uint BackKicks => Volatile.Read(ref *Word(BackKickOffset));
    public uint CancelKicks => Volatile.Read(ref *Word(CancelKickOffset));

    /// <summary>Frontend → backend event: content-free, the backend re-reads the state.</summary>
    public void KickBackend() => Kick(FrontKickOffset);
    public void KickFrontend() => Kick(BackKickOffset);
    public void KickCancel() => Kick(CancelKickOffset);
    public void KickControl() => Kick(ControlKickOffset);
    public uint ControlKicks => Volatile.Read(ref *Word(ControlKickOffset));
    public void WaitControlKick(uint seen, int timeoutMs) => Futex.Wait(Word(ControlKickOffset), seen, timeoutMs);
    public void NudgeControlWaiters() => Futex.WakeAll(Word(ControlKickOffset));

    void Kick(int offset)
    {
        uint* w = Word(offset);
        Interlocked.Increment(ref *(int*)w);
        Futex.WakeAll(w);
    }

    /// <summary>Wakes whoever sleeps on a doorbell without counting a kick (a local nudge: re-check the peer).</summary>
    public void NudgeFrontKickWaiters() => Futex.WakeAll(Word(FrontKickOffset));
    public void NudgeBackKickWaiters() => Futex.WakeAll(Word(BackKickOffset));
    public void NudgeCancelWaiters() => Futex.WakeAll(Word(CancelKickOffset));

    public void WaitFrontKick(uint seen, int timeoutMs) => Futex.Wait(Word(FrontKickOffset), seen, timeoutMs);
    public void WaitBackKick(uint seen, int timeoutMs) => Futex.Wait(Word(BackKickOffset), seen, timeoutMs);
    public void WaitCancelKick(uint seen, int timeoutMs) => Futex.Wait(Word(CancelKickOffset), seen, timeoutMs);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
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
