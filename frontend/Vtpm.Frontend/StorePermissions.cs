namespace Vtpm.Frontend;

/// <summary>
/// Who may write a rendezvous store. Xenstore lets only dom0 and the domain itself write a device's nodes; here
/// the file system's permissions play that part, so both sides check them before they trust a key: whoever can
/// write a side's keys can name any process's descriptor as its ring (the backend's pid+start-time and seal
/// checks then limit what that buys, but it should not be possible at all).
/// <list type="bullet">
/// <item>the store directory DIR may be shared (writable by group or others) only if it is sticky, like /tmp, so
/// nobody else can rename or replace the device directory in it;</item>
/// <item>the device directory DIR/NAME must be a real directory (not a symbolic link another user could re-point),
/// owned by this process's effective user or by root, and writable by nobody else;</item>
/// <item>the side directories DIR/NAME/frontend and DIR/NAME/backend, where they exist, must be real directories
/// writable by their owner only. Any owner: only the device directory's owner (or root) can have created them
/// there, e.g. for a frontend that runs as another user.</item>
/// </list>
/// Key files are written 0644 and replaced by rename, so nobody else can change one in place either.
/// </summary>
internal static unsafe class StorePermissions
{
    /// <summary>What makes the store untrustworthy, as a sentence naming the path; null if nothing.</summary>
    public static string? Problem(RendezvousStore store)
    {
        if (Look(store.Root, follow: true, out var root) is not 0 and var e1) return $"rendezvous store {store.Root}: {Libc.Describe(e1)}";
        if ((root.Mode & Libc.SIfmt) != Libc.SIfdir) return $"rendezvous store {store.Root} is not a directory";
        if (SharedWrite(root) && (root.Mode & Libc.SIsvtx) == 0)
            return $"rendezvous store {store.Root} is writable by group or others (mode {Octal(root)}) and not sticky, so anyone could replace device {store.Name} in it; use a directory of mode 0755 or 0700 (or a sticky one, like /tmp)";

        if (Look(store.DeviceDirectory, follow: false, out var device) is not 0 and var e2) return $"device directory {store.DeviceDirectory}: {Libc.Describe(e2)}";
        if ((device.Mode & Libc.SIfmt) != Libc.SIfdir)
            return $"device directory {store.DeviceDirectory} is not a directory (a symbolic link or a file)";
        uint me = Libc.Geteuid();
        if (device.Uid != me && device.Uid != 0)
            return $"device directory {store.DeviceDirectory} belongs to uid {device.Uid}, not to this process's uid {me} or root";
        if (SharedWrite(device))
            return $"device directory {store.DeviceDirectory} is writable by group or others (mode {Octal(device)}); it must be 0755 or 0700";

        foreach (var side in new[] { Side.Frontend, Side.Backend })
        {
            string path = store.SideDirectory(side);
            int e3 = Look(path, follow: false, out var st);
            if (e3 == Libc.Enoent) continue; // that side has not started yet
            if (e3 != 0) return $"{path}: {Libc.Describe(e3)}";
            if ((st.Mode & Libc.SIfmt) != Libc.SIfdir) return $"{path} is not a directory (a symbolic link or a file)";
            if (SharedWrite(st)) return $"{path} is writable by group or others (mode {Octal(st)}); it must be 0755 or 0700";
        }
        return null;
    }

    /// <summary>statx(2) of <paramref name="path"/>: 0, or the errno.</summary>
    static int Look(string path, bool follow, out Libc.Statx st)
    {
        Libc.Statx s;
        int rc = Libc.StatxCall(Libc.AtFdcwd, path, follow ? 0 : Libc.AtSymlinkNofollow, Libc.StatxType | Libc.StatxMode | Libc.StatxUid, &s);
        st = s;
        return rc == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    }

    static bool SharedWrite(in Libc.Statx st) => (st.Mode & (Libc.SIwgrp | Libc.SIwoth)) != 0;

    static string Octal(in Libc.Statx st) => "0" + Convert.ToString(st.Mode & 0xFFF, 8);
}
