using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Vtpm.Frontend;

/// <summary>Xenbus device states (xen/include/public/io/xenbus.h), as both sides publish them.</summary>
public enum XenbusState
{
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8,
}

/// <summary>Which half of a device a directory belongs to.</summary>
public enum Side { Frontend, Backend }

/// <summary>
/// The rendezvous store in Xenstore's role: <c>DIR/NAME/frontend/</c> and <c>DIR/NAME/backend/</c>, one file per
/// key with Xenstore's key names (state, ring-ref, event-channel, feature-protocol-v2, uuid, ready) plus
/// <c>pid</c> ("pid:starttime", so a recycled process id is not mistaken for the peer). Each key is written
/// atomically (temporary file + rename), so a reader sees the old or the new value, never half of one.
/// Either side may start first; each polls the other's keys (the stand-in for a Xenstore watch).
/// </summary>
public sealed class RendezvousStore
{
    public string Root { get; }
    public string Name { get; }
    public string DeviceDirectory { get; }

    public RendezvousStore(string root, string name)
    {
        if (!IsValidName(name)) throw new ArgumentException($"device name '{name}' must be 1-64 characters of [A-Za-z0-9._-]", nameof(name));
        Root = root;
        Name = name;
        DeviceDirectory = Path.Combine(root, name);
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && name is not ("." or "..") && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public string SideDirectory(Side side) => Path.Combine(DeviceDirectory, side == Side.Frontend ? "frontend" : "backend");

    /// <summary>Mode of the directories we create (0755): only their owner may write them (<see cref="StorePermissions"/>).</summary>
    const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Mode of key files (0644): the peer may read them, only their writer may replace them.</summary>
    const UnixFileMode KeyMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Creates this side's directory (and the device directory), then checks who may write them.</summary>
    /// <exception cref="InvalidOperationException">Someone else could write the store (the message says where and how to fix it).</exception>
    public void Create(Side side)
    {
        CreateDirectory(SideDirectory(side));
        if (TrustProblem() is { } problem) throw new InvalidOperationException(problem);
    }

    // The analyzers want the Unix-only overloads guarded; tpmif itself (memfd, futex) is Linux-only anyway.
    static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>Why the store cannot be trusted (someone else could write a side's keys), or null (<see cref="StorePermissions"/>).</summary>
    public string? TrustProblem() => StorePermissions.Problem(this);

    string? _reported;

    /// <summary>
    /// True if the store can be trusted; otherwise logs why, once per distinct problem (the caller retries until
    /// it is fixed), as "<paramref name="who"/> NAME: not connecting: …".
    /// </summary>
    public bool CheckTrusted(ILogger log, string who)
    {
        var problem = TrustProblem();
        if (problem is not null && problem != _reported) log.LogWarning("{Who} {Name}: not connecting: {Problem}", who, Name, problem);
        _reported = problem;
        return problem is null;
    }

    /// <summary>Writes one key atomically.</summary>
    public void Write(Side side, string key, string value)
    {
        string dir = SideDirectory(side);
        CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{key}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = KeyMode;
        using (var fs = new FileStream(temp, options))
            fs.Write(System.Text.Encoding.UTF8.GetBytes(value));
        File.Move(temp, Path.Combine(dir, key), overwrite: true);
    }

    /// <summary>A key's value, or null if absent or unreadable. Values are short: at most 4 KiB is read.</summary>
    public string? Read(Side side, string key)
    {
        try
        {
            using var fs = new FileStream(Path.Combine(SideDirectory(side), key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buf = new byte[4096];
            int n = fs.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            return System.Text.Encoding.UTF8.GetString(buf, 0, n).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Delete(Side side, string key)
    {
        try { File.Delete(Path.Combine(SideDirectory(side), key)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public XenbusState ReadState(Side side) =>
        int.TryParse(Read(side, "state"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s is >= 0 and <= 8 ? (XenbusState)s : XenbusState.Unknown;

    public void WriteState(Side side, XenbusState state) => Write(side, "state", ((int)state).ToString(CultureInfo.InvariantCulture));

    /// <summary>Publishes this process as the owner of <paramref name="side"/>.</summary>
    public void WriteOwner(Side side) => Write(side, "pid", ProcessIdentity.Current);

    /// <summary>True if the process that published <paramref name="side"/>'s pid key is still running.</summary>
    public bool IsAlive(Side side) => Read(side, "pid") is { } id && ProcessIdentity.IsRunning(id);

    /// <summary>The owner's process id, or null.</summary>
    public int? OwnerPid(Side side)
    {
        var id = Read(side, "pid");
        return id is not null && int.TryParse(id.Split(':')[0], NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : null;
    }
}

/// <summary>"pid:starttime" identities: /proc/PID/stat field 22 disambiguates a recycled pid.</summary>
public static class ProcessIdentity
{
    public static string Current { get; } = Of(Environment.ProcessId) ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public static string? Of(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
        int close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var fields = stat[(close + 2)..].Split(' ');
        if (fields.Length < 20) return null;
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19]. A zombie is not alive.
        if (fields[0] is "Z" or "X") return null;
        return $"{pid}:{fields[19]}";
    }

    public static bool IsRunning(string identity)
    {
        var parts = identity.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0) return false;
        return Of(pid) == identity;
    }
}
