using System.Buffers.Binary;
using Vtpm.Wire;

namespace Vtpm.Frontend;

/// <summary>The 10-byte error response (TPM 2.0 Part 1, 18.9: TPM_ST_NO_SESSIONS, size, code) written in place.</summary>
internal static class TpmError
{
    public const int Size = 10;

    /// <summary>Writes the response for <paramref name="rc"/> at the start of <paramref name="response"/>; returns 10.</summary>
    public static int Write(Span<byte> response, TpmRc rc)
    {
        BinaryPrimitives.WriteUInt16BigEndian(response, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], Size);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], rc.Code);
        return Size;
    }
}
