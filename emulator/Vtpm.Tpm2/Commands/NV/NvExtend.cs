using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.9 TPM2_NV_Extend: data = H_nameAlg(data || extendData) on an extend index
/// (an unwritten index starts as zeros). Response codes: TPM_RC_SIZE (data larger than
/// MAX_NV_BUFFER_SIZE, parameter 1), TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES
/// (not an extend index, handle 2).
/// </summary>
public static class NvExtend
{
    public readonly record struct In(byte[] Data);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var data, NvSubsystem.BufferMax);
        if (rc.IsError) return rc;
        input = new In(data.ToArray());
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Nv.TryGetAccessible(f.Handles[1], out var index)) return TpmRc.Handle.ForHandle(2);
        rc = tpm.Nv.CheckWrite(f.Handles[0], f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type != TpmNt.Extend) return TpmRc.Attributes.ForHandle(2);
        var alg = index.Public.NameAlg;
        using var h = TpmHash.CreateIncremental(alg);
        if (index.Has(TpmaNv.Written)) h.AppendData(index.Data);
        else h.AppendData(new byte[index.Data.Length]);
        h.AppendData(input.Data);
        h.GetHashAndReset(index.Data);
        tpm.Nv.MarkWritten(index);
        return TpmRc.Success;
    }
}
