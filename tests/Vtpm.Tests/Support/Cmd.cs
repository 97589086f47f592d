using System.Buffers.Binary;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Support;

/// <summary>Builds TPM 2.0 command byte strings for tests: header, handles, optional password sessions, parameters.</summary>
public sealed class Cmd
{
    readonly TpmCc _code;
    readonly List<uint> _handles = [];
    readonly List<byte[]> _passwords = [];
    byte[]? _rawSessions;
    readonly MemoryStream _params = new();

    Cmd(TpmCc code) => _code = code;

    public static Cmd Of(TpmCc code) => new(code);

    public Cmd Handle(uint h) { _handles.Add(h); return this; }
    public Cmd Handle(TpmRh h) => Handle((uint)h);

    /// <summary>Adds a password session (TPM_RS_PW) with the given password.</summary>
    public Cmd Password(byte[]? password = null) { _passwords.Add(password ?? []); return this; }
    public Cmd Password(string password) => Password(System.Text.Encoding.UTF8.GetBytes(password));

    /// <summary>Replaces the session area with raw bytes (without the authorizationSize field).</summary>
    public Cmd RawSessions(byte[] area) { _rawSessions = area; return this; }

    public Cmd U8(byte v) { _params.WriteByte(v); return this; }
    public Cmd U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16BigEndian(b, v); _params.Write(b); return this; }
    public Cmd U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); _params.Write(b); return this; }
    public Cmd U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); _params.Write(b); return this; }
    public Cmd Bytes(ReadOnlySpan<byte> v) { _params.Write(v); return this; }
    public Cmd B2(ReadOnlySpan<byte> v) { U16((ushort)v.Length); _params.Write(v); return this; }
    public Cmd B2(string utf8) => B2(System.Text.Encoding.UTF8.GetBytes(utf8));

    /// <summary>TPML_PCR_SELECTION with one bank selecting the given PCRs (3-octet select).</summary>
    public Cmd PcrSelection(TpmAlgId bank, params int[] pcrs)
    {
        U32(1).U16((ushort)bank).U8(3);
        var sel = new byte[3];
        foreach (int p in pcrs) sel[p / 8] |= (byte)(1 << (p % 8));
        return Bytes(sel);
    }

    public byte[] Build()
    {
        var ms = new MemoryStream();
        var b4 = new byte[4];
        bool sessions = _passwords.Count > 0 || _rawSessions is not null;
        void W16(ushort v) { BinaryPrimitives.WriteUInt16BigEndian(b4, v); ms.Write(b4[..2]); }
        void W32(uint v) { BinaryPrimitives.WriteUInt32BigEndian(b4, v); ms.Write(b4); }
        W16(sessions ? (ushort)TpmSt.Sessions : (ushort)TpmSt.NoSessions);
        W32(0);
        W32((uint)_code);
        foreach (var h in _handles) W32(h);
        if (sessions)
        {
            var area = new MemoryStream();
            if (_rawSessions is not null) area.Write(_rawSessions);
            foreach (var pw in _passwords)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b4, (uint)TpmRh.Pw); area.Write(b4);
                area.WriteByte(0); area.WriteByte(0);
                area.WriteByte(1);
                BinaryPrimitives.WriteUInt16BigEndian(b4, (ushort)pw.Length); area.Write(b4[..2]);
                area.Write(pw);
            }
            W32((uint)area.Length);
            area.WriteTo(ms);
        }
        _params.WriteTo(ms);
        var result = ms.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(2), (uint)result.Length);
        return result;
    }
}

/// <summary>A parsed response: code, and a reader positioned at the parameters (after the handle and parameterSize).</summary>
public sealed class Rsp(byte[] bytes, bool hasHandle)
{
    public byte[] Bytes { get; } = bytes;
    public ushort Tag => BinaryPrimitives.ReadUInt16BigEndian(Bytes);
    public uint Size => BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(2));
    public TpmRc Rc => new(BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(6)));
    public uint Handle => hasHandle && Rc.IsSuccess ? BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(10)) : 0;

    /// <summary>The response parameter area (without parameterSize and sessions).</summary>
    public byte[] Parameters
    {
        get
        {
            if (Rc.IsError) return [];
            int off = 10 + (hasHandle ? 4 : 0);
            if (Tag == (ushort)TpmSt.Sessions)
            {
                uint ps = BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(off));
                return Bytes.AsSpan(off + 4, (int)ps).ToArray();
            }
            return Bytes.AsSpan(off).ToArray();
        }
    }

    public override string ToString() => $"{Rc} ({Bytes.Length} bytes)";
}
