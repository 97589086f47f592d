using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// A loaded key or data object (Part 1 §27, §32): its public and sensitive areas, its Name
/// (nameAlg || H(TPMT_PUBLIC), Part 1 §16) and Qualified Name (nameAlg || H(parent's QN || Name), §16.6), and the
/// hierarchy it belongs to.
/// </summary>
public sealed class KeyObject
{
    public TpmtPublic Public;
    public TpmtSensitive Sensitive;

    public KeyObject(in TpmtPublic pub, in TpmtSensitive sensitive, uint hierarchy, ReadOnlySpan<byte> parentQualifiedName)
        : this(pub, sensitive, hierarchy, parentQualifiedName, null)
    {
    }

    /// <summary>An object whose Qualified Name is known already (a context being loaded).</summary>
    public KeyObject(in TpmtPublic pub, in TpmtSensitive sensitive, uint hierarchy, ReadOnlySpan<byte> parentQualifiedName, byte[]? qualifiedName)
    {
        Public = pub;
        Sensitive = sensitive;
        Hierarchy = hierarchy;
        // Part 1 §16: an object whose nameAlg is TPM_ALG_NULL is named by its handle.
        Name = pub.NameAlg == TpmAlgId.Null ? [] : NameOf(pub);
        QualifiedName = qualifiedName ?? (pub.NameAlg == TpmAlgId.Null ? [] : QualifiedNameOf(pub.NameAlg, parentQualifiedName, Name));
    }

    /// <summary>The hierarchy whose seed the object descends from (TPM_RH_NULL for the null hierarchy).</summary>
    public uint Hierarchy { get; }

    /// <summary>The Name; for an object without a nameAlg (TPM2_LoadExternal of a bare public key) its handle, set when loaded.</summary>
    public byte[] Name { get; internal set; }

    public byte[] QualifiedName { get; }

    /// <summary>A public area without its sensitive area (TPM2_LoadExternal of a public key): it verifies, never signs.</summary>
    public bool IsPublicOnly { get; init; }

    public bool Has(TpmaObject attribute) => (Public.ObjectAttributes & attribute) == attribute;

    /// <summary>Part 1 §16: nameAlg || H_nameAlg(marshalled TPMT_PUBLIC).</summary>
    public static byte[] NameOf(in TpmtPublic pub)
    {
        var buffer = new byte[TpmtPublic.MaxSize];
        var w = new TpmWriter(buffer);
        pub.Marshal(ref w);
        return [(byte)((ushort)pub.NameAlg >> 8), (byte)pub.NameAlg, .. TpmHash.Hash(pub.NameAlg, w.Written)];
    }

    /// <summary>Part 1 §16.6: QN = nameAlg || H_nameAlg(QN(parent) || Name); a hierarchy's QN is its handle.</summary>
    public static byte[] QualifiedNameOf(TpmAlgId nameAlg, ReadOnlySpan<byte> parentQualifiedName, ReadOnlySpan<byte> name) =>
        [(byte)((ushort)nameAlg >> 8), (byte)nameAlg, .. TpmHash.Hash(nameAlg, [.. parentQualifiedName, .. name])];

    /// <summary>A hierarchy's Name and Qualified Name: its handle, big-endian (Part 1 §16).</summary>
    public static byte[] HandleName(uint handle) => [(byte)(handle >> 24), (byte)(handle >> 16), (byte)(handle >> 8), (byte)handle];
}
