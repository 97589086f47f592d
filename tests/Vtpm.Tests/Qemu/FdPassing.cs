using System.Net.Sockets;
using System.Runtime.InteropServices;
using Vtpm.Emulator.Transports;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// What QEMU's tpm_emulator backend does to hand over the data channel: socketpair(AF_UNIX, SOCK_STREAM)
/// and sendmsg() of the 4-byte CMD_SET_DATAFD with one end attached as SCM_RIGHTS.
/// </summary>
public static partial class FdPassing
{
    const int AfUnix = 1, SockStream = 1, SolSocket = 1, ScmRights = 1;

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static unsafe partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMsg(int fd, void* msg, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>A connected pair: the Socket we keep, and the raw descriptor of the end to pass.</summary>
    public static unsafe (Socket Ours, int TheirFd) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (SocketPair(AfUnix, SockStream, 0, fds) != 0) throw new SocketException(Marshal.GetLastPInvokeError());
        var ours = new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        return (ours, fds[1]);
    }

    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>Sends <paramref name="data"/> on a connected Unix socket with <paramref name="fd"/> attached (none if negative).</summary>
    public static unsafe void Send(Socket socket, ReadOnlySpan<byte> data, int fd)
    {
        // cmsghdr: size_t cmsg_len, int level, int type, then the int fd; CMSG_SPACE(4) = 24 on 64-bit.
        int header = sizeof(nuint) + 8;
        int space = (header + 4 + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        *(nuint*)control = (nuint)(header + 4);
        *(int*)(control + sizeof(nuint)) = SolSocket;
        *(int*)(control + sizeof(nuint) + 4) = ScmRights;
        *(int*)(control + header) = fd;
        fixed (byte* p = data)
        {
            var iov = new IoVec { Base = p, Length = (nuint)data.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (fd >= 0)
            {
                msg.Control = control;
                msg.ControlLength = (nuint)space;
            }
            nint n = SendMsg((int)socket.SafeHandle.DangerousGetHandle(), &msg, 0);
            if (n != data.Length) throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }
}
