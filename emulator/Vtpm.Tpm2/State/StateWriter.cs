using System.Buffers.Binary;

namespace Vtpm.Tpm2.State;

/// <summary>
/// Explicit marshalling of state sections (never a memory dump): big-endian fields behind a section
/// tag and length, so a reader can check it consumed exactly what each section wrote.
/// </summary>
public sealed class StateWriter
{
    readonly MemoryStream _stream = new();
    readonly Stack<long> _sections = new();

    public void U8(byte v) => _stream.WriteByte(v);
    public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);

    public void U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        _stream.Write(b);
    }

    public void U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        _stream.Write(b);
    }

    public void U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, v);
        _stream.Write(b);
    }

    public void I64(long v) => U64((ulong)v);

    /// <summary>A byte string with a 32-bit length.</summary>
    public void Bytes(ReadOnlySpan<byte> v)
    {
        U32((uint)v.Length);
        _stream.Write(v);
    }

    /// <summary>Starts a section: a 4-character tag and a 32-bit length patched by <see cref="EndSection"/>.</summary>
    public void BeginSection(string tag)
    {
        if (tag.Length != 4) throw new ArgumentException("section tags are 4 ASCII characters", nameof(tag));
        foreach (char c in tag) U8((byte)c);
        _sections.Push(_stream.Position);
        U32(0);
    }

    public void EndSection()
    {
        long at = _sections.Pop();
        long end = _stream.Position;
        _stream.Position = at;
        U32((uint)(end - at - 4));
        _stream.Position = end;
    }

    public byte[] ToArray() => _stream.ToArray();

    /// <summary>What was written so far, without a copy (valid until the next write or <see cref="Reset"/>).</summary>
    public ReadOnlySpan<byte> Written => _stream.GetBuffer().AsSpan(0, (int)_stream.Length);

    /// <summary>Empties the writer, keeping its buffer (the engine reuses one writer for every commit).</summary>
    public void Reset()
    {
        _stream.SetLength(0);
        _sections.Clear();
    }
}
