using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Vtpm.Emulator.Transports;

/// <summary>Executes one TPM command into <paramref name="response"/> and returns the response length.</summary>
public delegate int TpmCommandExecutor(ReadOnlySpan<byte> command, byte locality, Span<byte> response);

/// <summary>
/// One TPM command connection (swtpm's data channel, the Microsoft simulator's command port) served by a
/// blocking loop on a thread of its own, as swtpm serves its client: the kernel wakes that thread when bytes
/// arrive, with no thread-pool hop per command. Requests are received into a per-connection buffer sized for
/// the largest request and answered from a per-connection response buffer, so a command allocates nothing.
/// Commands of different connections are serialized only by the instance's lock: a client that stalls in the
/// middle of a command holds up nobody else. When <c>stopping</c> fires the socket is shut down, which ends
/// a blocked receive or send at once.
/// </summary>
public sealed class CommandConnection : IDisposable
{
    /// <summary>swtpm framing: tag (2) and commandSize (4) come first (Part 1 §18.2); commandSize counts the header.</summary>
    public const int TpmHeaderSize = 6;

    /// <summary>The smallest TPM command: tag, commandSize, commandCode (Part 1 §18.2).</summary>
    public const int MinCommandSize = 10;

    readonly Socket _socket;
    readonly byte[] _in;
    readonly byte[] _out;
    int _start, _end; // received, not yet consumed: _in[_start.._end]

    CommandConnection(Socket socket, int maxRequest, int maxReply)
    {
        _socket = socket;
        _in = ArrayPool<byte>.Shared.Rent(maxRequest);
        _out = ArrayPool<byte>.Shared.Rent(maxReply);
    }

    /// <summary>
    /// Serves <paramref name="socket"/> with <paramref name="serve"/> on a dedicated thread; the task ends when
    /// <paramref name="serve"/> returns (faulted with its exception). <paramref name="maxRequest"/> bounds a
    /// request with its framing, <paramref name="maxReply"/> the reply buffer. The caller keeps owning the socket.
    /// </summary>
    public static Task RunAsync(Socket socket, string name, int maxRequest, int maxReply, CancellationToken stopping, Action<CommandConnection> serve)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var connection = new CommandConnection(socket, maxRequest, maxReply);
                // Registered after the buffers exist; fires at once if the host is already stopping.
                using (stopping.Register(static s => ((CommandConnection)s!).Abort(), connection))
                {
                    serve(connection);
                }
                done.SetResult();
            }
            catch (Exception e) when (stopping.IsCancellationRequested && e is SocketException or ObjectDisposedException or EndOfStreamException)
            {
                done.SetCanceled(stopping); // the stop closed the socket under a receive or send
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true, // never keeps the process alive on its own
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// swtpm's data channel: bare TPM commands framed by their header's commandSize, answered one at a time at
    /// the locality <paramref name="locality"/> gives, each response in one send (QEMU's version probe needs the
    /// whole answer in one read()). A size outside 10..<paramref name="maxCommand"/> leaves the stream
    /// unsynchronized: the client is disconnected with a log line. Returns when the client leaves (or after
    /// one command with <paramref name="disconnectAfterEach"/>).
    /// </summary>
    public void ServeTpmCommands(TpmCommandExecutor execute, Func<byte> locality, Func<int> maxCommand, bool disconnectAfterEach, ILogger log)
    {
        while (WaitForRequest())
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(Peek(TpmHeaderSize)[2..]);
            int max = Math.Min(maxCommand(), _in.Length);
            if (size < MinCommandSize || size > (uint)max)
            {
                log.LogWarning("data channel: command size {Size} outside {Min}..{Max}; disconnecting the client", size, MinCommandSize, max);
                return;
            }
            var command = Read((int)size);
            int n = execute(command, locality(), _out);
            Send(_out.AsSpan(0, n));
            if (disconnectAfterEach) return;
        }
    }

    /// <summary>
    /// The body of the simulator's TPM_SEND_COMMAND (TpmTcpProtocol.h), after its code: u8 locality, u32 size,
    /// the command; answered with u32 size, the response, u32 0 in one send. <paramref name="execute"/> may
    /// answer 0 bytes (a powered-off simulator's empty response). False when the size exceeds
    /// <paramref name="maxCommand"/>: the session ends, since the stream cannot be resynchronized.
    /// </summary>
    public bool ServeMssimCommand(TpmCommandExecutor execute, int maxCommand, ILogger log)
    {
        var head = Read(5);
        byte locality = head[0];
        uint size = BinaryPrimitives.ReadUInt32BigEndian(head[1..]);
        int max = Math.Min(maxCommand, _in.Length);
        if (size > (uint)max)
        {
            log.LogWarning("mssim: command of {Size} bytes exceeds {Max}; disconnecting the client", size, max);
            return false;
        }
        var command = Read((int)size);
        int n = execute(command, locality, _out.AsSpan(4, _out.Length - 8));
        BinaryPrimitives.WriteUInt32BigEndian(_out, (uint)n);
        BinaryPrimitives.WriteUInt32BigEndian(_out.AsSpan(4 + n), 0);
        Send(_out.AsSpan(0, 4 + n + 4));
        return true;
    }

    /// <summary>Blocks until a request starts; false when the peer closed the connection between requests.</summary>
    public bool WaitForRequest() => _end > _start || Fill(1, atBoundary: true);

    /// <summary>Reads a big-endian u32 of a request.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Read(4));

    /// <summary>
    /// The next <paramref name="n"/> bytes, consumed; valid until the next read. At most the buffer's size.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer closed in the middle of the request.</exception>
    public ReadOnlySpan<byte> Read(int n)
    {
        var s = Peek(n);
        _start += n;
        return s;
    }

    /// <summary>The next <paramref name="n"/> bytes, not consumed.</summary>
    public ReadOnlySpan<byte> Peek(int n)
    {
        if (_end - _start < n) Fill(n, atBoundary: false);
        return _in.AsSpan(_start, n);
    }

    /// <summary>Sends the whole of <paramref name="data"/>: one send call for the whole answer (no split replies).</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = _socket.Send(data, SocketFlags.None);
            data = data[n..];
        }
    }

    /// <summary>
    /// Receives until <paramref name="n"/> bytes are buffered, taking whatever else has arrived (a next request
    /// stays buffered for the next read). Returns false only for a clean end of stream at a request boundary.
    /// </summary>
    bool Fill(int n, bool atBoundary)
    {
        if ((uint)n > (uint)_in.Length) throw new ArgumentOutOfRangeException(nameof(n), n, $"a request part larger than the {_in.Length}-byte buffer");
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start + n > _in.Length)
        {
            // Move the partial request to the front so all of it fits.
            _in.AsSpan(_start, _end - _start).CopyTo(_in);
            (_start, _end) = (0, _end - _start);
        }
        while (_end - _start < n)
        {
            int r = _socket.Receive(_in.AsSpan(_end), SocketFlags.None);
            if (r == 0)
            {
                if (atBoundary && _end == _start) return false;
                throw new EndOfStreamException($"peer closed after {_end - _start} of {n} bytes");
            }
            _end += r;
        }
        return true;
    }

    /// <summary>Ends a blocked receive or send (the host is stopping); the loop then sees the end of the stream.</summary>
    void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed or never connected: nothing is blocked on it.
        }
    }

    public void Dispose()
    {
        // The buffers held TPM commands and responses (authorization values among them).
        ArrayPool<byte>.Shared.Return(_in, clearArray: true);
        ArrayPool<byte>.Shared.Return(_out, clearArray: true);
    }
}
