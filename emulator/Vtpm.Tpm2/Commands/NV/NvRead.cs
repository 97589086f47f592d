using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.13 TPM2_NV_Read: reads size bytes at offset. Response codes: TPM_RC_NV_LOCKED
/// (READLOCKED), TPM_RC_NV_AUTHORIZATION, TPM_RC_NV_UNINITIALIZED (never written), TPM_RC_VALUE
/// (size above MAX_NV_BUFFER_SIZE, parameter 1; offset beyond dataSize, parameter 2), TPM_RC_NV_RANGE
/// (offset + size beyond dataSize). Allocation-free: the data is copied into the generated response.
/// </summary>
public static class NvRead
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvReadIn input, ref NvReadOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        var rc = tpm.Nv.CheckRead(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        int dataSize = index.Public.DataSize;
        // size is a plain UINT16 (Part 3 §31.13), so its limit is this command's check, after the access checks.
        if (input.Size > NvSubsystem.BufferMax) return TpmRc.Value.ForParameter(1);
        if (input.Offset > dataSize) return TpmRc.Value.ForParameter(2);
        if (input.Size > dataSize - input.Offset) return TpmRc.NvRange;
        output.Data.Size = input.Size;
        index.Data.AsSpan(input.Offset, input.Size).CopyTo(output.Data.Buffer);
        return TpmRc.Success;
    }
}
