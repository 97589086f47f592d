using System.Buffers.Binary;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hash;

/// <summary>
/// TPM 2.0 Part 3 §15.4 TPM2_Hash: hashes data (TPM2B_MAX_BUFFER) and returns a TPMT_TK_HASHCHECK for
/// the hierarchy (NULL ticket for TPM_RH_NULL or data starting with TPM_GENERATED_VALUE). Response
/// codes, all from the generated unmarshal: TPM_RC_SIZE (parameter 1, data too large), TPM_RC_HASH
/// (parameter 2, TPMI_ALG_HASH: TPM_ALG_NULL not allowed), TPM_RC_VALUE (parameter 3, TPMI_RH_HIERARCHY+).
/// </summary>
public static class Hash
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in HashIn input, ref HashOut output)
    {
        var data = input.Data.Span;
        output.OutHash.Size = (ushort)tpm.Hashes.Digest(input.HashAlg, data, output.OutHash.Buffer);
        bool safe = data.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(data) != Tickets.TpmGeneratedValue;
        HashSupport.FillHashCheck(tpm, ref output.Validation, input.Hierarchy, output.OutHash.Span, safe);
        return TpmRc.Success;
    }
}
