using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// What the engine needs of the generated TPMA_NV and TPMS_NV_PUBLIC (Part 2 §13.4, §13.5) beyond their wire
/// form: the TPM_NT field of TPMA_NV (bits 4–7), the attribute groups, and the Name of an index (Part 1 §16).
/// </summary>
public static class NvPublic
{
    /// <summary>The attributes that let some authorization read the index (TPMA_NV_xxxREAD).</summary>
    public const TpmaNv AnyRead = TpmaNv.PpRead | TpmaNv.OwnerRead | TpmaNv.AuthRead | TpmaNv.PolicyRead;

    /// <summary>The attributes that let some authorization write the index (TPMA_NV_xxxWRITE).</summary>
    public const TpmaNv AnyWrite = TpmaNv.PpWrite | TpmaNv.OwnerWrite | TpmaNv.AuthWrite | TpmaNv.PolicyWrite;

    const int NtShift = 4;

    /// <summary>TPM_NT: the type of the index, TPMA_NV bits 4–7.</summary>
    public static TpmNt NvType(this TpmaNv a) => (TpmNt)(((uint)(a & TpmaNv.TpmNtMask)) >> NtShift);

    /// <summary>These attributes with TPM_NT <paramref name="type"/> in bits 4–7.</summary>
    public static TpmaNv WithType(this TpmaNv a, TpmNt type) => (a & ~TpmaNv.TpmNtMask) | (TpmaNv)((uint)type << NtShift);

    /// <summary>The marshalled size of the structure (without the TPM2B_NV_PUBLIC size field).</summary>
    public static int MarshalledSize(this in TpmsNvPublic p) => 4 + 2 + 4 + 2 + p.AuthPolicy.Size + 2;

    /// <summary>Part 1 §16: Name = nameAlg || H_nameAlg(TPMS_NV_PUBLIC).</summary>
    public static byte[] ComputeName(this in TpmsNvPublic p)
    {
        Span<byte> buffer = stackalloc byte[TpmsNvPublic.MaxSize];
        var w = new TpmWriter(buffer);
        p.Marshal(ref w);
        var name = new byte[2 + TpmHash.DigestSize(p.NameAlg)];
        name[0] = (byte)((ushort)p.NameAlg >> 8);
        name[1] = (byte)p.NameAlg;
        TpmHash.Hash(p.NameAlg, w.Written, name.AsSpan(2));
        return name;
    }
}
