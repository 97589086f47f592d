using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §17.3 TPM2_HashSequenceStart: loads a hash sequence object (hashAlg) or, with
/// TPM_ALG_NULL, an event sequence object, with the given authValue. Response codes: TPM_RC_OBJECT_MEMORY
/// (no free object slot); TPM_RC_SIZE (parameter 1, auth larger than a digest) and TPM_RC_HASH
/// (parameter 2, TPMI_ALG_HASH+) are the generated unmarshal's.
/// </summary>
public static class HashSequenceStart
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in HashSequenceStartIn input, ref HashSequenceStartOut output)
    {
        var handle = tpm.Objects.StartSequence(input.HashAlg, Authorization.TrimTrailingZeros(input.Auth.Span));
        if (handle is null) return TpmRc.ObjectMemory;
        output.SequenceHandle = handle.Value;
        return TpmRc.Success;
    }
}
