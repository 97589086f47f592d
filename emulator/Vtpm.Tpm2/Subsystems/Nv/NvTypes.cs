using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>TPMA_NV (Part 2 §13.4): the attributes of an NV index; bits 4–7 hold TPM_NT.</summary>
[Flags]
public enum TpmaNv : uint
{
    None = 0,
    PpWrite = 1u << 0,
    OwnerWrite = 1u << 1,
    AuthWrite = 1u << 2,
    PolicyWrite = 1u << 3,
    TpmNtMask = 0xFu << 4,
    Reserved1 = 3u << 8,
    PolicyDelete = 1u << 10,
    WriteLocked = 1u << 11,
    WriteAll = 1u << 12,
    WriteDefine = 1u << 13,
    WriteStClear = 1u << 14,
    GlobalLock = 1u << 15,
    PpRead = 1u << 16,
    OwnerRead = 1u << 17,
    AuthRead = 1u << 18,
    PolicyRead = 1u << 19,
    Reserved2 = 0x1Fu << 20,
    NoDa = 1u << 25,
    Orderly = 1u << 26,
    ClearStClear = 1u << 27,
    ReadLocked = 1u << 28,
    Written = 1u << 29,
    PlatformCreate = 1u << 30,
    ReadStClear = 1u << 31,

    AnyRead = PpRead | OwnerRead | AuthRead | PolicyRead,
    AnyWrite = PpWrite | OwnerWrite | AuthWrite | PolicyWrite,
    Reserved = Reserved1 | Reserved2,
}

/// <summary>TPM_NT (Part 2 §13.4 Table "TPM_NT"): the type of an NV index.</summary>
public enum TpmNt : byte
{
    Ordinary = 0x0,
    Counter = 0x1,
    Bits = 0x2,
    Extend = 0x4,
    PinFail = 0x8,
    PinPass = 0x9,
}

public static class TpmaNvExtensions
{
    public static TpmNt NvType(this TpmaNv a) => (TpmNt)(((uint)a >> 4) & 0xF);

    public static TpmaNv WithType(this TpmaNv a, TpmNt type) => (a & ~TpmaNv.TpmNtMask) | (TpmaNv)((uint)type << 4);

    public static bool IsDefinedType(TpmNt t) => t is TpmNt.Ordinary or TpmNt.Counter or TpmNt.Bits or TpmNt.Extend or TpmNt.PinFail or TpmNt.PinPass;
}

/// <summary>TPMS_NV_PUBLIC (Part 2 §13.5).</summary>
public sealed record TpmsNvPublic(uint NvIndex, TpmAlgId NameAlg, TpmaNv Attributes, byte[] AuthPolicy, ushort DataSize)
{
    /// <summary>Marshalled size without the TPM2B size field.</summary>
    public int MarshalledSize => 4 + 2 + 4 + 2 + AuthPolicy.Length + 2;

    public void Write(ref TpmWriter w)
    {
        w.WriteUInt32(NvIndex);
        w.WriteUInt16((ushort)NameAlg);
        w.WriteUInt32((uint)Attributes);
        w.WriteSized16(AuthPolicy);
        w.WriteUInt16(DataSize);
    }

    /// <summary>TPM2B_NV_PUBLIC: size then the structure.</summary>
    public void WriteSized(ref TpmWriter w)
    {
        w.WriteUInt16((ushort)MarshalledSize);
        Write(ref w);
    }

    public byte[] ToBytes()
    {
        var b = new byte[MarshalledSize];
        var w = new TpmWriter(b);
        Write(ref w);
        return b;
    }

    /// <summary>Part 1 §16: Name = nameAlg || H_nameAlg(TPMS_NV_PUBLIC).</summary>
    public byte[] ComputeName()
    {
        int n = TpmHash.DigestSize(NameAlg);
        var name = new byte[2 + n];
        name[0] = (byte)((ushort)NameAlg >> 8);
        name[1] = (byte)NameAlg;
        TpmHash.Hash(NameAlg, ToBytes(), name.AsSpan(2));
        return name;
    }

    /// <summary>
    /// Unmarshals TPM2B_NV_PUBLIC with the checks of the TPMI/TPMA types (Part 2): an empty or
    /// inconsistent size is TPM_RC_SIZE, a non-NV handle TPM_RC_VALUE, a bad nameAlg TPM_RC_HASH,
    /// reserved attribute bits TPM_RC_RESERVED_BITS. The cursor does not move on failure.
    /// </summary>
    public static TpmRc ParseSized(ref TpmReader r, out TpmsNvPublic value)
    {
        value = null!;
        int start = r.Position;
        if (!r.TryReadUInt16(out ushort size)) return TpmRc.Insufficient;
        if (size == 0) { r.Rewind(start); return TpmRc.Size; }
        if (!r.TryReadBytes(size, out var body)) { r.Rewind(start); return TpmRc.Insufficient; }
        var inner = new TpmReader(body);
        var rc = Parse(ref inner, out value);
        if (rc.IsSuccess && !inner.AtEnd) rc = TpmRc.Size;
        if (rc.IsError) { r.Rewind(start); value = null!; }
        return rc;
    }

    static TpmRc Parse(ref TpmReader r, out TpmsNvPublic value)
    {
        value = null!;
        if (!r.TryReadUInt32(out uint index)) return TpmRc.Insufficient;
        if ((index >> 24) != (uint)TpmHt.NvIndex) return TpmRc.Value;
        if (!r.TryReadUInt16(out ushort alg)) return TpmRc.Insufficient;
        if (!TpmHash.IsImplemented((TpmAlgId)alg)) return TpmRc.Hash;
        if (!r.TryReadUInt32(out uint attrs)) return TpmRc.Insufficient;
        if ((attrs & (uint)TpmaNv.Reserved) != 0) return TpmRc.ReservedBits;
        var rc = r.ReadSized16(out var policy, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        if (!r.TryReadUInt16(out ushort dataSize)) return TpmRc.Insufficient;
        value = new TpmsNvPublic(index, (TpmAlgId)alg, (TpmaNv)attrs, policy.ToArray(), dataSize);
        return TpmRc.Success;
    }
}
