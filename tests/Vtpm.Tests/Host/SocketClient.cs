using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vtpm.Tests.Host;

/// <summary>A blocking test client with a receive timeout, so a hung server fails the test instead of hanging it.</summary>
public sealed class SocketClient : IDisposable
{
    readonly Socket _socket;

    SocketClient(Socket s)
    {
        _socket = s;
        _socket.ReceiveTimeout = 5000;
        _socket.SendTimeout = 5000;
    }

    public static SocketClient Tcp(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(IPAddress.Loopback, port);
        return new SocketClient(s);
    }

    public static SocketClient Unix(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return new SocketClient(s);
    }

    public SocketClient Send(params byte[] data)
    {
        _socket.Send(data);
        return this;
    }

    public SocketClient SendU32(params uint[] words)
    {
        var b = new byte[4 * words.Length];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 * i), words[i]);
        return Send(b);
    }

    public byte[] Read(int n)
    {
        var b = new byte[n];
        int got = 0;
        while (got < n)
        {
            int r = _socket.Receive(b, got, n - got, SocketFlags.None);
            if (r == 0) throw new EndOfStreamException($"server closed after {got} of {n} bytes");
            got += r;
        }
        return b;
    }

    public uint ReadU32() => BinaryPrimitives.ReadUInt32BigEndian(Read(4));

    /// <summary>Reads one TPM response framed by its header's size field.</summary>
    public byte[] ReadTpmResponse()
    {
        var head = Read(10);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(2));
        return [.. head, .. Read((int)size - 10)];
    }

    /// <summary>True if the server closed the connection (a read returns end of stream).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            return _socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public void Dispose() => _socket.Dispose();
}
