using System.Buffers.Binary;

namespace Vtpm.Wire;

/// <summary>
/// A bounds-checked big-endian reader over a span (TPM 2.0 Part 1 §18: all values are big-endian).
/// Every Try method leaves the cursor where it was when it fails, so callers can turn a failure into
/// the response code the specification names (usually TPM_RC_INSUFFICIENT or TPM_RC_SIZE) without
/// having half-consumed a structure.
/// </summary>
public ref struct TpmReader
{
    readonly ReadOnlySpan<byte> _buffer;
    int _position;

    public TpmReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly bool AtEnd => _position == _buffer.Length;
    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_position..];
    public readonly ReadOnlySpan<byte> Consumed => _buffer[.._position];

    public bool TryReadUInt8(out byte value)
    {
        if (Remaining < 1) { value = 0; return false; }
        value = _buffer[_position++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (Remaining < 2) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt64BigEndian(_buffer[_position..]);
        _position += 8;
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> value)
    {
        if (count < 0 || Remaining < count) { value = default; return false; }
        value = _buffer.Slice(_position, count);
        _position += count;
        return true;
    }

    public bool TrySkip(int count) => TryReadBytes(count, out _);

    /// <summary>
    /// Reads a TPM2B: a 16-bit size then that many bytes. Returns TPM_RC_INSUFFICIENT if the buffer
    /// ends early and TPM_RC_SIZE if the size exceeds <paramref name="maxSize"/> (Part 2 §10.4: the
    /// size of a TPM2B is checked against the maximum of the type). The cursor does not move on failure.
    /// </summary>
    public TpmRc ReadSized16(out ReadOnlySpan<byte> value, int maxSize = ushort.MaxValue)
    {
        value = default;
        int start = _position;
        if (!TryReadUInt16(out ushort size)) return TpmRc.Insufficient;
        if (size > maxSize) { _position = start; return TpmRc.Size; }
        if (!TryReadBytes(size, out value)) { _position = start; return TpmRc.Insufficient; }
        return TpmRc.Success;
    }

    /// <summary>Moves the cursor back to a position obtained from <see cref="Position"/>.</summary>
    public void Rewind(int position)
    {
        if ((uint)position > (uint)_position) throw new ArgumentOutOfRangeException(nameof(position));
        _position = position;
    }
}
