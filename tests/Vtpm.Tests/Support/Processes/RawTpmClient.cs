using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vtpm.Tests.Support.Processes;

/// <summary>The server closed the connection instead of answering.</summary>
public sealed class TpmDisconnectedException(string message) : IOException(message);

/// <summary>
/// A raw client for a TPM server's command channel. swtpm framing is bare TPM bytes (the response is
/// framed by its header's size field); the Microsoft simulator frames a command as
/// TPM_SEND_COMMAND(8), u8 locality, u32 size, bytes and answers u32 size, bytes, u32 0 (ECOSYSTEM §1.8).
/// </summary>
public sealed class RawTpmClient : IDisposable, Vtpm.Wire.Tpm2.Client.ITpmTransport
{
    const uint MssimSendCommand = 8;
    const uint MssimSessionEnd = 20;

    readonly Socket _socket;
    readonly TpmProtocol _protocol;

    public RawTpmClient(int port, TpmProtocol protocol, TimeSpan? timeout = null)
    {
        _protocol = protocol;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        int ms = (int)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        _socket.ReceiveTimeout = ms;
        _socket.SendTimeout = ms;
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
    }

    /// <summary>Sends one command and returns the whole response.</summary>
    public byte[] Transact(byte[] command, byte locality = 0)
    {
        SendFrame(command, locality);
        return ReceiveResponse();
    }

    /// <summary>The typed client's transport: one command, its whole response copied into <paramref name="response"/>.</summary>
    public int Transact(ReadOnlySpan<byte> command, Span<byte> response)
    {
        SendFrame(command);
        var r = ReceiveResponse();
        r.CopyTo(response);
        return r.Length;
    }

    /// <summary>Sends a command in the channel's framing (one write).</summary>
    public void SendFrame(ReadOnlySpan<byte> command, byte locality = 0)
    {
        if (_protocol == TpmProtocol.Mssim)
        {
            var frame = new byte[9 + command.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame, MssimSendCommand);
            frame[4] = locality;
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)command.Length);
            command.CopyTo(frame.AsSpan(9));
            SendRaw(frame);
        }
        else
        {
            SendRaw(command);
        }
    }

    /// <summary>Writes bytes as they are, in one send.</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                int n = _socket.Send(bytes);
                bytes = bytes[n..];
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted or SocketError.NotConnected)
        {
            throw new TpmDisconnectedException($"send failed: {e.SocketErrorCode}");
        }
    }

    /// <summary>Half-closes the connection: the server sees end of input.</summary>
    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e)
        {
            throw new TpmDisconnectedException($"shutdown failed: {e.SocketErrorCode}");
        }
    }

    /// <summary>Reads one response in the channel's framing.</summary>
    public byte[] ReceiveResponse()
    {
        if (_protocol == TpmProtocol.Mssim)
        {
            var len = ReadExact(4);
            int n = (int)BinaryPrimitives.ReadUInt32BigEndian(len);
            if (n > 1 << 20) throw new InvalidDataException($"mssim response length {n} is absurd");
            var body = ReadExact(n);
            var ack = ReadExact(4);
            if (BinaryPrimitives.ReadUInt32BigEndian(ack) != 0) throw new InvalidDataException("mssim response not followed by a zero acknowledgement");
            return body;
        }
        var header = ReadExact(10);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        if (size < 10 || size > 1 << 20) throw new InvalidDataException($"response size field {size} is not a valid TPM response size");
        var rest = ReadExact((int)size - 10);
        return [.. header, .. rest];
    }

    byte[] ReadExact(int n)
    {
        var buf = new byte[n];
        int got = 0;
        while (got < n)
        {
            int r;
            try
            {
                r = _socket.Receive(buf, got, n - got, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
            {
                throw new TimeoutException($"no response within {_socket.ReceiveTimeout} ms (had {got} of {n} bytes)");
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
            {
                throw new TpmDisconnectedException($"connection reset after {got} of {n} bytes");
            }
            if (r == 0) throw new TpmDisconnectedException($"server closed the connection after {got} of {n} bytes");
            got += r;
        }
        return buf;
    }

    public void Dispose()
    {
        if (_protocol == TpmProtocol.Mssim && _socket.Connected)
        {
            // Polite close so the simulator does not log a broken session; ignore a peer that is already gone.
            try { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, MssimSessionEnd); _socket.Send(b); }
            catch (SocketException) { }
        }
        _socket.Dispose();
    }
}

/// <summary>Out-of-band channels: swtpm's control protocol (tpm_ioctl.h) and the Microsoft simulator's platform port.</summary>
public static class PlatformChannel
{
    /// <summary>swtpm control commands (ECOSYSTEM §1.2).</summary>
    public const uint CmdGetCapability = 0x01, CmdInit = 0x02, CmdShutdown = 0x03, CmdStop = 0x0e;

    /// <summary>Microsoft simulator platform signals (ECOSYSTEM §1.8).</summary>
    public const uint PowerOn = 1, PowerOff = 2, NvOn = 11, SessionEnd = 20;

    /// <summary>Sends a control command with an optional payload and returns the 32-bit result (0 = success).</summary>
    public static uint SwtpmControl(int ctrlPort, uint command, byte[]? payload = null)
    {
        using var s = Connect(ctrlPort);
        var req = new byte[4 + (payload?.Length ?? 0)];
        BinaryPrimitives.WriteUInt32BigEndian(req, command);
        payload?.CopyTo(req, 4);
        s.Send(req);
        var res = new byte[4];
        ReceiveExact(s, res);
        return BinaryPrimitives.ReadUInt32BigEndian(res);
    }

    /// <summary>CMD_INIT (flags 0): the swtpm equivalent of a power cycle / _TPM_Init.</summary>
    public static void SwtpmInit(int ctrlPort)
    {
        uint rc = SwtpmControl(ctrlPort, CmdInit, new byte[4]);
        if (rc != 0) throw new InvalidOperationException($"CMD_INIT returned 0x{rc:X}");
    }

    /// <summary>Sends platform signals; each is acknowledged with a u32 0.</summary>
    public static void MssimSignals(int platformPort, params uint[] signals)
    {
        using var s = Connect(platformPort);
        var b = new byte[4];
        foreach (var sig in signals)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, sig);
            s.Send(b);
            ReceiveExact(s, b);
            uint ack = BinaryPrimitives.ReadUInt32BigEndian(b);
            if (ack != 0) throw new InvalidOperationException($"platform signal {sig} acknowledged with {ack}");
        }
        BinaryPrimitives.WriteUInt32BigEndian(b, SessionEnd);
        s.Send(b);
    }

    static Socket Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000,
        };
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    static void ReceiveExact(Socket s, byte[] buf)
    {
        int got = 0;
        while (got < buf.Length)
        {
            int r = s.Receive(buf, got, buf.Length - got, SocketFlags.None);
            if (r == 0) throw new TpmDisconnectedException("control channel closed");
            got += r;
        }
    }
}
