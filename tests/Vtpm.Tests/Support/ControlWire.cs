using System.Buffers.Binary;
using System.Net.Sockets;

namespace Vtpm.Tests.Support;

/// <summary>
/// swtpm's control channel (tpm_ioctl.h: big-endian u32 words) and a raw TPM data channel as the tests speak
/// them, with exact reads: a short read is an <see cref="EndOfStreamException"/>, never a silently short buffer.
/// </summary>
public static class ControlWire
{
    /// <summary>The words big-endian, back to back: a control request.</summary>
    public static byte[] Words(params uint[] words)
    {
        var b = new byte[4 * words.Length];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 * i), words[i]);
        return b;
    }

    /// <summary>Exactly <paramref name="n"/> bytes.</summary>
    public static byte[] Read(Socket s, int n)
    {
        var b = new byte[n];
        int got = 0;
        while (got < n)
        {
            int r = s.Receive(b, got, n - got, SocketFlags.None);
            if (r == 0) throw new EndOfStreamException($"closed after {got} of {n} bytes");
            got += r;
        }
        return b;
    }

    public static uint U32(byte[] b, int offset = 0) => BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(offset));

    public static uint ReadU32(Socket s) => U32(Read(s, 4));

    /// <summary>A control request whose answer is the result word alone.</summary>
    public static uint Call(Socket ctrl, params uint[] request)
    {
        ctrl.Send(Words(request));
        return ReadU32(ctrl);
    }

    /// <summary>One TPM command on a data channel: the whole response, by its header's size field.</summary>
    public static byte[] Transact(Socket data, byte[] command)
    {
        data.Send(command);
        var head = Read(data, 10);
        return [.. head, .. Read(data, (int)BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(2)) - 10)];
    }
}
