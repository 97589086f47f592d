using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.9 TPM2_NV_Extend: data = H_nameAlg(data || extendData) on an extend index
/// (an unwritten index starts as zeros). Response codes: TPM_RC_SIZE (data larger than
/// MAX_NV_BUFFER_SIZE, parameter 1, from the generated unmarshal), TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION,
/// TPM_RC_ATTRIBUTES (not an extend index, handle 2).
/// </summary>
public static class NvExtend
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvExtendIn input, ref NvExtendOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type != TpmNt.Extend) return TpmRc.Attributes.ForHandle(2);
        var alg = index.Public.NameAlg;
        using var h = TpmHash.CreateIncremental(alg);
        if (index.Has(TpmaNv.Written)) h.AppendData(index.Data);
        else h.AppendData(new byte[index.Data.Length]);
        h.AppendData(input.Data.Span);
        h.GetHashAndReset(index.Data);
        tpm.Nv.MarkWritten(index);
        return TpmRc.Success;
    }
}
