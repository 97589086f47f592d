using System.Globalization;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// Which Unix socket paths have a live listener, read from the kernel's table (/proc/net/unix) rather than by
/// connecting: a probe connection would count as a client to the listener, and a control channel opened with
/// <c>terminate</c> exits when its client leaves.
/// </summary>
static class UnixSocketTable
{
    const string Table = "/proc/net/unix";
    const uint AcceptCon = 0x10000; // __SO_ACCEPTCON: the socket is listening

    /// <summary>
    /// The path to bind: the absolute one when it fits in sun_path, so this process's own entry in the table is
    /// unambiguous to the next one that checks.
    /// </summary>
    public static string BindPath(string path)
    {
        string full = Path.GetFullPath(path);
        return System.Text.Encoding.UTF8.GetByteCount(full) < 108 ? full : path;
    }

    /// <summary>
    /// True if a listening socket is bound to <paramref name="path"/>. Entries bound with a relative path are
    /// matched against this process's working directory (the table does not say whose they are).
    /// </summary>
    public static bool HasListener(string path)
    {
        string full = Path.GetFullPath(path);
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadLines(Table).Skip(1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no table (not Linux): bind decides, as it always did
        }
        foreach (var line in lines)
        {
            // Num RefCount Protocol Flags Type St Inode Path — the path is everything after the seventh field.
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8 || fields[7].StartsWith('@')) continue; // unnamed or abstract
            if (!uint.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint flags) || (flags & AcceptCon) == 0) continue;
            if (Path.GetFullPath(fields[7]) == full) return true;
        }
        return false;
    }
}
