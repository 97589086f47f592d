using System.Buffers.Binary;

namespace Vtpm.Tpm2.State;

/// <summary>
/// Reads what <see cref="StateWriter"/> wrote. Any inconsistency (short data, wrong section tag, a
/// section not consumed exactly) throws <see cref="StateFormatException"/>: a blob that passed its
/// integrity check but does not parse was written by something else and must not be half-loaded.
/// </summary>
public sealed class StateReader(byte[] data)
{
    int _pos;
    readonly Stack<int> _ends = new();

    public bool AtEnd => _pos == data.Length;

    ReadOnlySpan<byte> Take(int n)
    {
        int limit = _ends.Count > 0 ? _ends.Peek() : data.Length;
        if (n < 0 || n > limit - _pos) throw new StateFormatException($"truncated at offset {_pos}");
        var s = data.AsSpan(_pos, n);
        _pos += n;
        return s;
    }

    public byte U8() => Take(1)[0];

    public bool Bool() => U8() switch
    {
        0 => false,
        1 => true,
        var b => throw new StateFormatException($"bad boolean {b} at offset {_pos - 1}"),
    };

    public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));
    public long I64() => (long)U64();

    public byte[] Bytes(int maxLength = 1 << 20)
    {
        uint n = U32();
        if (n > maxLength) throw new StateFormatException($"byte string of {n} bytes exceeds {maxLength} at offset {_pos - 4}");
        return Take((int)n).ToArray();
    }

    public void BeginSection(string tag)
    {
        var t = Take(4);
        for (int i = 0; i < 4; i++)
        {
            if (t[i] != tag[i]) throw new StateFormatException($"expected section '{tag}' at offset {_pos - 4}");
        }
        uint len = U32();
        int limit = _ends.Count > 0 ? _ends.Peek() : data.Length;
        if (len > limit - _pos) throw new StateFormatException($"section '{tag}' overruns its container");
        _ends.Push(_pos + (int)len);
    }

    /// <summary>Whether the current section has been read to its end (an older, shorter format of it).</summary>
    public bool SectionAtEnd => _ends.Count > 0 && _pos == _ends.Peek();

    public void EndSection()
    {
        int end = _ends.Pop();
        if (_pos != end) throw new StateFormatException($"section ends at {end} but {_pos - end} bytes were read past or left unread");
    }
}

/// <summary>A state blob that does not parse.</summary>
public sealed class StateFormatException(string message) : Exception(message);
