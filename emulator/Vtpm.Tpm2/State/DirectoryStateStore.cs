using System.Runtime.InteropServices;

namespace Vtpm.Tpm2.State;

/// <summary>
/// The state directory of a standalone instance, laid out as swtpm's dir backend: tpm2-00.permall,
/// tpm2-00.volatilestate, tpm2-00.savestate (each a <see cref="StateEnvelope"/>) and a .lock file held with an
/// exclusive lock for the store's lifetime, so two processes never share a directory.
/// Every write is atomic: a temporary file in the same directory is written and fsynced, renamed over the
/// target, then the directory is fsynced so the rename itself survives a crash.
/// </summary>
public sealed partial class DirectoryStateStore : IStateStore, IDisposable
{
    readonly StateKey? _key;
    readonly FileStream _lock;
    readonly UnixFileMode? _mode;

    public string Directory { get; }

    /// <param name="directory">Created if missing.</param>
    /// <param name="key">State encryption key, or null for integrity-only blobs.</param>
    /// <param name="mode">File mode for the blobs (swtpm's mode=, default 0640).</param>
    /// <exception cref="StateLockedException">Another process (or store) holds the directory.</exception>
    public DirectoryStateStore(string directory, StateKey? key = null, UnixFileMode? mode = null)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _key = key;
        _mode = mode ?? (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        string lockPath = Path.Combine(Directory, ".lock");
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; it fails at once if held.
            _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StateLockedException(Directory, e.Message);
        }
    }

    public static string FileName(StateBlobKind kind) => kind switch
    {
        StateBlobKind.Permanent => "tpm2-00.permall",
        StateBlobKind.Volatile => "tpm2-00.volatilestate",
        StateBlobKind.SaveState => "tpm2-00.savestate",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public string PathOf(StateBlobKind kind) => Path.Combine(Directory, FileName(kind));

    public byte[]? Load(StateBlobKind kind)
    {
        string path = PathOf(kind);
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        return StateEnvelope.Open(kind, raw, _key, path);
    }

    public void Save(StateBlobKind kind, ReadOnlySpan<byte> payload)
    {
        string path = PathOf(kind);
        string temp = Path.Combine(Directory, $".{FileName(kind)}.{Environment.ProcessId}.tmp");
        var blob = StateEnvelope.Seal(kind, payload, _key);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = _mode;
            using (var fs = new FileStream(temp, options))
            {
                fs.Write(blob);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        SyncDirectory();
    }

    public void Delete(StateBlobKind kind)
    {
        string path = PathOf(kind);
        if (!File.Exists(path)) return;
        File.Delete(path);
        SyncDirectory();
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>fsync(2) on the directory makes a rename or unlink durable (POSIX leaves it in the page cache otherwise).</summary>
    void SyncDirectory()
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Open(Directory, ORdOnly | ODirectory | OCloExec);
        if (fd < 0) throw new IOException($"cannot open state directory {Directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of state directory {Directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // Linux values (asm-generic): O_RDONLY 0, O_DIRECTORY 0200000, O_CLOEXEC 02000000.
    const int ORdOnly = 0;
    const int ODirectory = 0x10000;
    const int OCloExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

/// <summary>The state directory is in use by another process.</summary>
public sealed class StateLockedException(string directory, string detail)
    : Exception($"state directory {directory} is locked by another process ({detail})")
{
    public string Directory { get; } = directory;
}
