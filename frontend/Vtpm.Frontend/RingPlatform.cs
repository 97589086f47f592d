using System.Buffers.Binary;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Frontend;

/// <summary>Platform signals a frontend relays to its backend (the guest-facing power, reset and hash lines).</summary>
public enum PlatformSignal : uint
{
    /// <summary>Power on: _TPM_Init if the TPM is off (MS simulator POWER_ON).</summary>
    PowerOn = 1,
    /// <summary>Power off without the automatic Shutdown (MS simulator POWER_OFF).</summary>
    PowerOff = 2,
    /// <summary>
    /// _TPM_Init of a running or stopped TPM (swtpm CMD_INIT, MS RESET); arg bit 0 = delete volatile state,
    /// bit 1 = the automatic TPM2_Shutdown(CLEAR) first, bit 2 = the configured TPM2_Startup after.
    /// </summary>
    Init = 3,
    /// <summary>Automatic TPM2_Shutdown(CLEAR) then power off (swtpm CMD_SHUTDOWN / CMD_STOP).</summary>
    Stop = 4,
    /// <summary>Physical presence asserted (arg 1) or deasserted (arg 0).</summary>
    PhysicalPresence = 5,
    /// <summary>NV available (arg 1) or not (arg 0).</summary>
    NvAvailable = 6,
    /// <summary>Result = TPM established flag.</summary>
    GetEstablished = 7,
    /// <summary>Reset the established flag at locality arg; result 0 or swtpm's TPM_BAD_LOCALITY.</summary>
    ResetEstablished = 8,
    HashStart = 9,
    /// <summary>Data follows the two words.</summary>
    HashData = 10,
    HashEnd = 11,
    /// <summary>Result bit 0 = powered on.</summary>
    Status = 12,
    /// <summary>swtpm CMD_STORE_VOLATILE.</summary>
    StoreVolatile = 13,
    /// <summary>
    /// One chunk of a state blob's payload: arg = blob kind (swtpm's PTM_BLOB_TYPE_*), data = u32 offset, u32
    /// largest chunk wanted. Result = the blob's total length, response data = the chunk. Offset 0 takes a
    /// snapshot of the blob; later offsets are served from that snapshot, so the chunks form one consistent blob.
    /// No such blob: <see cref="RingPlatform.NoBlob"/>.
    /// </summary>
    GetStateBlob = 14,
    /// <summary>
    /// One chunk of a state blob's payload: arg = blob kind, data = u32 total length, u32 offset, then the
    /// chunk. Chunks must come in order from offset 0; the blob replaces the stored one once complete, and
    /// only while the TPM is off (as swtpm's CMD_SET_STATEBLOB).
    /// </summary>
    SetStateBlob = 15,
    /// <summary>Result bit 0 = the state is encrypted with a key file (swtpm CMD_GET_CONFIG's PTM_CONFIG_FLAG_FILE_KEY).</summary>
    GetConfig = 16,
    /// <summary>Result = the TPM_PT_FIXED property arg (Part 2 § 6.13); TPM_RC_VALUE if the TPM has no such property.</summary>
    FixedProperty = 17,
    /// <summary>The cancel line as a level (MS CANCEL_ON arg 1 / CANCEL_OFF arg 0).</summary>
    CancelLevel = 18,
}

/// <summary>
/// tpmif has no platform lines (in Xen the toolstack restarts the vTPM domain instead). We carry them in-band
/// as a vendor-specific command (TPM_CC with the V bit, Part 2 §6.5.2): tag NO_SESSIONS, size, command code
/// <see cref="CommandCode"/>, u32 signal, u32 argument, then optional data. The answer is a 14-byte response:
/// header with TPM_RC_SUCCESS (or an error) and a u32 result. A frontend never forwards this command code from
/// its own clients (it answers TPM_RC_COMMAND_CODE itself), so only the frontend process can send it.
/// </summary>
public static class RingPlatform
{
    public const uint CommandCode = 0x2000_0101;

    /// <summary>Size of a platform response without data: header plus the u32 result.</summary>
    public const int ResponseHeaderSize = 14;

    /// <summary>The answer to <see cref="PlatformSignal.GetStateBlob"/> for a blob that does not exist.</summary>
    public static readonly TpmRc NoBlob = TpmRc.NoResult;

    public static byte[] Build(PlatformSignal signal, uint argument = 0, ReadOnlySpan<byte> data = default)
    {
        var b = new byte[18 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), (uint)b.Length);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), CommandCode);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(10), (uint)signal);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(14), argument);
        data.CopyTo(b.AsSpan(18));
        return b;
    }

    public static bool IsPlatformCommand(ReadOnlySpan<byte> command) =>
        command.Length >= 10 && BinaryPrimitives.ReadUInt32BigEndian(command[6..]) == CommandCode;

    /// <summary>Splits a platform command; false if it is malformed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> command, out PlatformSignal signal, out uint argument, out ReadOnlySpan<byte> data)
    {
        signal = 0;
        argument = 0;
        data = default;
        if (command.Length < 18 || !IsPlatformCommand(command) || BinaryPrimitives.ReadUInt32BigEndian(command[2..]) != (uint)command.Length) return false;
        signal = (PlatformSignal)BinaryPrimitives.ReadUInt32BigEndian(command[10..]);
        argument = BinaryPrimitives.ReadUInt32BigEndian(command[14..]);
        data = command[18..];
        return true;
    }

    public static byte[] Response(TpmRc rc, uint result = 0, ReadOnlySpan<byte> data = default)
    {
        var b = new byte[ResponseHeaderSize + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), (uint)b.Length);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), rc.Code);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(10), result);
        data.CopyTo(b.AsSpan(ResponseHeaderSize));
        return b;
    }

    /// <summary>A bare 10-byte error response (what a frontend answers when the ring cannot) written at the start of <paramref name="response"/>; returns its length.</summary>
    public static int WriteError(Span<byte> response, TpmRc rc) => TpmError.Write(response, rc);

    /// <summary>A bare 10-byte error response, as a new array.</summary>
    public static byte[] Error(TpmRc rc)
    {
        var b = new byte[TpmError.Size];
        TpmError.Write(b, rc);
        return b;
    }

    /// <summary>Response code of a response, or null if it is too short to have one.</summary>
    public static TpmRc? ResponseCode(ReadOnlySpan<byte> response) =>
        response.Length >= 10 ? new TpmRc(BinaryPrimitives.ReadUInt32BigEndian(response[6..])) : null;

    /// <summary>The u32 result of a platform response (0 when absent).</summary>
    public static uint Result(ReadOnlySpan<byte> response) =>
        response.Length >= ResponseHeaderSize ? BinaryPrimitives.ReadUInt32BigEndian(response[10..]) : 0;

    /// <summary>The data after the result of a platform response (empty when absent).</summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> response) =>
        response.Length > ResponseHeaderSize ? response[ResponseHeaderSize..] : default;
}
