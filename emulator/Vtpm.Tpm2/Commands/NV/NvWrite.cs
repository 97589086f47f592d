using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.7 TPM2_NV_Write: writes data at offset of an ordinary (or PIN) index.
/// Response codes: TPM_RC_SIZE (data larger than MAX_NV_BUFFER_SIZE, parameter 1, from the generated unmarshal),
/// TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (counter, bits or extend index; no index, as swtpm
/// answers), TPM_RC_VALUE (offset beyond dataSize, parameter 2), TPM_RC_NV_RANGE (data does not fit; WRITEALL and
/// not the whole index). Allocation-free: the data is copied from the generated parameter.
/// </summary>
public static class NvWrite
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvWriteIn input, ref NvWriteOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type is TpmNt.Counter or TpmNt.Bits or TpmNt.Extend) return TpmRc.Attributes;
        var data = input.Data.Span;
        int size = index.Public.DataSize;
        if (input.Offset > size) return TpmRc.Value.ForParameter(2);
        if (data.Length > size - input.Offset) return TpmRc.NvRange;
        if (index.Has(TpmaNv.WriteAll) && data.Length < size) return TpmRc.NvRange;
        data.CopyTo(index.Data.AsSpan(input.Offset));
        tpm.Nv.MarkWritten(index);
        return TpmRc.Success;
    }
}
