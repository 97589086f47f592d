using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// The byte stream of one control-channel client. On a Unix socket every byte is read with recvmsg(2) so
/// that a file descriptor passed with SCM_RIGHTS (CMD_SET_DATAFD: QEMU's backends/tpm/tpm_emulator.c sends
/// one end of a socketpair attached to the 4-byte command) is received rather than discarded by the
/// kernel; .NET's Socket API exposes no ancillary data. TCP clients are read the ordinary way.
/// </summary>
public sealed partial class ControlStream : IDisposable
{
    const int SolSocket = 1, ScmRights = 1;
    const int MsgDontWait = 0x40, MsgCmsgCloexec = 0x40000000;
    const int Eagain = 11, Eintr = 4;
    const int ControlSize = 256; // room for several fds: a client may attach more than one

    readonly Socket _socket;
    readonly bool _unix;
    readonly byte[] _buffer = new byte[8192];
    readonly Queue<int> _fds = new();
    int _start, _end;

    public ControlStream(Socket socket)
    {
        _socket = socket;
        _unix = socket.AddressFamily == AddressFamily.Unix && OperatingSystem.IsLinux();
    }

    /// <summary>Bytes received and not yet consumed.</summary>
    public int Buffered => _end - _start;

    /// <summary>
    /// Takes the oldest file descriptor received with the bytes consumed so far, or -1 if none came.
    /// Descriptors are owned by the caller once taken.
    /// </summary>
    public int TakeFd() => _fds.Count > 0 ? _fds.Dequeue() : -1;

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes; false if the peer closed first.</summary>
    public async ValueTask<bool> ReadExactAsync(Memory<byte> destination, CancellationToken ct)
    {
        int got = 0;
        while (got < destination.Length)
        {
            if (Buffered == 0 && !await FillAsync(ct).ConfigureAwait(false)) return false;
            int n = Math.Min(Buffered, destination.Length - got);
            _buffer.AsMemory(_start, n).CopyTo(destination[got..]);
            _start += n;
            got += n;
        }
        return true;
    }

    /// <summary>Discards whatever was received and not consumed (after a malformed request).</summary>
    public void DiscardBuffered() => _start = _end = 0;

    async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _start = _end = 0;
        if (!_unix)
        {
            int n = await _socket.ReceiveAsync(_buffer, SocketFlags.None, ct).ConfigureAwait(false);
            _end = n;
            return n > 0;
        }
        while (true)
        {
            // A zero-byte receive waits until data (or end of stream) is ready without consuming any.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).ConfigureAwait(false);
            int n = ReceiveWithFds();
            if (n == -Eagain || n == -Eintr) continue;
            if (n < 0) throw new SocketException(-n);
            _end = n;
            return n > 0;
        }
    }

    /// <summary>One non-blocking recvmsg: returns the byte count (0 = end of stream) or -errno.</summary>
    unsafe int ReceiveWithFds()
    {
        byte* control = stackalloc byte[ControlSize];
        new Span<byte>(control, ControlSize).Clear();
        long n;
        fixed (byte* data = _buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)_buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSize };
            n = RecvMsg(_socket.SafeHandle.DangerousGetHandle().ToInt32(), &msg, MsgDontWait | MsgCmsgCloexec);
            if (n < 0) return -Marshal.GetLastPInvokeError();
            // cmsghdr: size_t cmsg_len, int cmsg_level, int cmsg_type, data (aligned to size_t).
            long used = (long)msg.ControlLength;
            long offset = 0;
            int header = sizeof(nuint) + 8;
            while (offset + header <= used)
            {
                byte* c = control + offset;
                long length = (long)*(nuint*)c;
                if (length < header || offset + length > used) break;
                int level = *(int*)(c + sizeof(nuint));
                int type = *(int*)(c + sizeof(nuint) + 4);
                if (level == SolSocket && type == ScmRights)
                {
                    for (long i = header; i + 4 <= length; i += 4) _fds.Enqueue(*(int*)(c + i));
                }
                offset += (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);
            }
        }
        return (int)n;
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static unsafe partial nint RecvMsg(int fd, void* msg, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseFd(int fd);

    /// <summary>Closes a descriptor that will not be used (a refused or surplus SCM_RIGHTS fd).</summary>
    public static void Close(int fd)
    {
        if (fd >= 0) _ = CloseFd(fd);
    }

    /// <summary>Closes every received descriptor nobody took (they came with a request that does not use one).</summary>
    public void DiscardFds()
    {
        while (_fds.Count > 0) Close(_fds.Dequeue());
    }

    public void Dispose() => DiscardFds();
}
