using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.7 TPM2_NV_Write: writes data at offset of an ordinary (or PIN) index.
/// Response codes: TPM_RC_SIZE (data larger than MAX_NV_BUFFER_SIZE, parameter 1), TPM_RC_NV_LOCKED,
/// TPM_RC_NV_AUTHORIZATION, TPM_RC_ATTRIBUTES (counter, bits or extend index; no index, as swtpm answers), TPM_RC_VALUE (offset
/// beyond dataSize, parameter 2), TPM_RC_NV_RANGE (data does not fit; WRITEALL and not the whole index).
/// </summary>
public static class NvWrite
{
    public readonly ref struct In(uint authHandle, uint nvIndex, ReadOnlySpan<byte> data, ushort offset)
    {
        public uint AuthHandle { get; } = authHandle;
        public uint NvIndex { get; } = nvIndex;
        public ReadOnlySpan<byte> Data { get; } = data;
        public ushort Offset { get; } = offset;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var data, NvSubsystem.BufferMax);
        if (rc.IsError) return rc;
        rc = f.ReadUInt16(out ushort offset);
        if (rc.IsError) return rc;
        input = new In(f.Handles[0], f.Handles[1], data, offset);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(2);
        rc = tpm.Nv.CheckWrite(input.AuthHandle, f.AuthSessions[0], index);
        if (rc.IsError) return rc;
        if (index.Type is TpmNt.Counter or TpmNt.Bits or TpmNt.Extend) return TpmRc.Attributes;
        int size = index.Public.DataSize;
        if (input.Offset > size) return TpmRc.Value.ForParameter(2);
        if (input.Data.Length > size - input.Offset) return TpmRc.NvRange;
        if (index.Has(TpmaNv.WriteAll) && input.Data.Length < size) return TpmRc.NvRange;
        input.Data.CopyTo(index.Data.AsSpan(input.Offset));
        tpm.Nv.MarkWritten(index);
        return TpmRc.Success;
    }
}
