using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.3 TPM2_HashSequenceStart: loads a hash sequence object (hashAlg) or, with
/// TPM_ALG_NULL, an event sequence object, with the given authValue. Response codes: TPM_RC_SIZE
/// (parameter 1, auth larger than a digest), TPM_RC_HASH (parameter 2), TPM_RC_OBJECT_MEMORY (no free
/// object slot).
/// </summary>
public static class HashSequenceStart
{
    public readonly ref struct In(ReadOnlySpan<byte> auth, TpmAlgId hashAlg)
    {
        public ReadOnlySpan<byte> Auth { get; } = auth;
        public TpmAlgId HashAlg { get; } = hashAlg;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var auth, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort alg);
        if (rc.IsError) return rc;
        if (alg != (ushort)TpmAlgId.Null && !TpmHash.IsImplemented((TpmAlgId)alg)) return TpmRc.Hash.ForParameter(2);
        input = new In(auth, (TpmAlgId)alg);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        var handle = tpm.Objects.StartSequence(input.HashAlg, Authorization.TrimTrailingZeros(input.Auth));
        if (handle is null) return TpmRc.ObjectMemory;
        f.ResponseHandle = handle.Value;
        return TpmRc.Success;
    }
}
