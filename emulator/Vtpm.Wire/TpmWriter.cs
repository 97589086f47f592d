using System.Buffers.Binary;

namespace Vtpm.Wire;

/// <summary>
/// A big-endian writer over a caller-owned span. Running out of room never throws: it sets
/// <see cref="Overflowed"/> and ignores further writes, so a response builder checks once at the end
/// (a TPM answers TPM_RC_SIZE or fails the command rather than crashing on a too-small buffer).
/// </summary>
public ref struct TpmWriter
{
    readonly Span<byte> _buffer;
    int _position;
    bool _overflowed;

    public TpmWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _overflowed = false;
    }

    public readonly int Position => _position;
    public readonly bool Overflowed => _overflowed;
    public readonly Span<byte> Written => _buffer[.._position];
    public readonly Span<byte> Buffer => _buffer;
    public readonly int Free => _buffer.Length - _position;

    bool Reserve(int count)
    {
        if (_overflowed || count > _buffer.Length - _position) { _overflowed = true; return false; }
        return true;
    }

    public void WriteUInt8(byte value)
    {
        if (Reserve(1)) _buffer[_position++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        if (!Reserve(2)) return;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        if (!Reserve(4)) return;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        if (!Reserve(8)) return;
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        if (!Reserve(value.Length)) return;
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes a TPM2B: 16-bit size, then the bytes.</summary>
    public void WriteSized16(scoped ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue) { _overflowed = true; return; }
        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    /// <summary>Reserves a 16-bit size field to be patched by <see cref="EndSized16"/> (TPM2B of a structure).</summary>
    public int BeginSized16()
    {
        int at = _position;
        WriteUInt16(0);
        return at;
    }

    public void EndSized16(int sizeFieldPosition)
    {
        if (_overflowed) return;
        int size = _position - sizeFieldPosition - 2;
        if (size > ushort.MaxValue) { _overflowed = true; return; }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[sizeFieldPosition..], (ushort)size);
    }

    /// <summary>Reserves a 32-bit size field (parameterSize in a response) to be patched by <see cref="EndSized32"/>.</summary>
    public int BeginSized32()
    {
        int at = _position;
        WriteUInt32(0);
        return at;
    }

    public void EndSized32(int sizeFieldPosition)
    {
        if (_overflowed) return;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[sizeFieldPosition..], (uint)(_position - sizeFieldPosition - 4));
    }

    /// <summary>Writes a 32-bit value at an earlier position (the response header's size).</summary>
    public void PatchUInt32(int position, uint value)
    {
        if (_overflowed) return;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[position..], value);
    }

    /// <summary>Drops everything written after <paramref name="position"/> (and a past overflow).</summary>
    public void Truncate(int position)
    {
        if ((uint)position > (uint)_buffer.Length) throw new ArgumentOutOfRangeException(nameof(position));
        _position = position;
        _overflowed = false;
    }
}
