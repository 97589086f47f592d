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
    /// <summary>_TPM_Init of a running or stopped TPM (swtpm CMD_INIT, MS RESET); arg bit 0 = delete volatile state.</summary>
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

    public static byte[] Response(TpmRc rc, uint result = 0)
    {
        var b = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), 14);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), rc.Code);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(10), result);
        return b;
    }

    /// <summary>A bare 10-byte error response (what a frontend answers when the ring cannot).</summary>
    public static byte[] Error(TpmRc rc)
    {
        var b = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), 10);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), rc.Code);
        return b;
    }

    /// <summary>Response code of a response, or null if it is too short to have one.</summary>
    public static TpmRc? ResponseCode(ReadOnlySpan<byte> response) =>
        response.Length >= 10 ? new TpmRc(BinaryPrimitives.ReadUInt32BigEndian(response[6..])) : null;

    /// <summary>The u32 result of a platform response (0 when absent).</summary>
    public static uint Result(ReadOnlySpan<byte> response) =>
        response.Length >= 14 ? BinaryPrimitives.ReadUInt32BigEndian(response[10..]) : 0;
}
