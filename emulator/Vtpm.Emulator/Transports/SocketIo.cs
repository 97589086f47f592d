using System.Net.Sockets;

namespace Vtpm.Emulator.Transports;

/// <summary>Stream helpers: exact reads (a request may arrive in any number of segments) and whole writes.</summary>
public static class SocketIo
{
    /// <summary>Reads exactly buffer.Length bytes; false on a clean end of stream before the first byte.</summary>
    /// <exception cref="EndOfStreamException">The peer closed in the middle of the buffer.</exception>
    public static async ValueTask<bool> ReadExactAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[got..], SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (got == 0) return false;
                throw new EndOfStreamException($"peer closed after {got} of {buffer.Length} bytes");
            }
            got += n;
        }
        return true;
    }

    /// <summary>Reads a big-endian u32; null on a clean end of stream.</summary>
    public static async ValueTask<uint?> ReadUInt32Async(Socket socket, CancellationToken ct)
    {
        var b = new byte[4];
        if (!await ReadExactAsync(socket, b, ct).ConfigureAwait(false)) return null;
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    /// <summary>Sends the whole buffer: one send call for the whole response (ECOSYSTEM §5: no split replies).</summary>
    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            data = data[n..];
        }
    }

    /// <summary>Big-endian 32-bit words, the unit of every control and platform answer.</summary>
    public static byte[] Words(params uint[] words)
    {
        var b = new byte[4 * words.Length];
        for (int i = 0; i < words.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 * i), words[i]);
        return b;
    }
}
