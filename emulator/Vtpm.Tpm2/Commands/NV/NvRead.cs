using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.13 TPM2_NV_Read: reads size bytes at offset. Response codes: TPM_RC_NV_LOCKED
/// (READLOCKED), TPM_RC_NV_AUTHORIZATION, TPM_RC_NV_UNINITIALIZED (never written), TPM_RC_VALUE
/// (size above MAX_NV_BUFFER_SIZE, parameter 1; offset beyond dataSize, parameter 2), TPM_RC_NV_RANGE
/// (offset + size beyond dataSize).
/// </summary>
public static class NvRead
{
    public readonly record struct In(ushort Size, ushort Offset);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt16(out ushort size);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort offset);
        if (rc.IsError) return rc;
        input = new In(size, offset);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Nv.TryGetAccessible(f.Handles[1], out var index)) return TpmRc.Handle.ForHandle(2);
        rc = tpm.Nv.CheckRead(f.Handles[0], f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        int dataSize = index.Public.DataSize;
        if (input.Size > NvSubsystem.BufferMax) return TpmRc.Value.ForParameter(1);
        if (input.Offset > dataSize) return TpmRc.Value.ForParameter(2);
        if (input.Size > dataSize - input.Offset) return TpmRc.NvRange;
        f.Response.WriteSized16(index.Data.AsSpan(input.Offset, input.Size));
        return TpmRc.Success;
    }
}
