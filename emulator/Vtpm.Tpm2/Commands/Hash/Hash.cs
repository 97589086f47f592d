using System.Buffers.Binary;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §15.4 TPM2_Hash: hashes data (TPM2B_MAX_BUFFER) and returns a TPMT_TK_HASHCHECK for
/// the hierarchy (NULL ticket for TPM_RH_NULL or data starting with TPM_GENERATED_VALUE). Response
/// codes: TPM_RC_SIZE (parameter 1, data too large), TPM_RC_HASH (parameter 2), TPM_RC_VALUE
/// (parameter 3, not a hierarchy).
/// </summary>
public static class Hash
{
    public readonly ref struct In(ReadOnlySpan<byte> data, TpmAlgId hashAlg, uint hierarchy)
    {
        public ReadOnlySpan<byte> Data { get; } = data;
        public TpmAlgId HashAlg { get; } = hashAlg;
        public uint Hierarchy { get; } = hierarchy;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var data, HashSupport.MaxBuffer);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort alg);
        if (rc.IsError) return rc;
        if (!TpmHash.IsImplemented((TpmAlgId)alg)) return TpmRc.Hash.ForParameter(2);
        rc = f.ReadUInt32(out uint hierarchy);
        if (rc.IsError) return rc;
        if (!HashSupport.IsHierarchyOrNull(hierarchy)) return TpmRc.Value.ForParameter(3);
        input = new In(data, (TpmAlgId)alg, hierarchy);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        Span<byte> digest = stackalloc byte[TpmHash.MaxDigestSize];
        digest = digest[..tpm.Hashes.Digest(input.HashAlg, input.Data, digest)];
        bool safe = input.Data.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(input.Data) != Tickets.TpmGeneratedValue;
        f.Response.WriteSized16(digest);
        HashSupport.WriteHashCheck(tpm, ref f.Response, input.Hierarchy, digest, safe);
        return TpmRc.Success;
    }
}
