using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Random;

/// <summary>
/// TPM 2.0 Part 3 §16.1 TPM2_GetRandom. Returns at most the largest digest size of any implemented
/// hash (the TPM may return fewer bytes than requested, never more). Response codes: none of its own.
/// </summary>
public static class GetRandom
{
    public readonly record struct In(ushort BytesRequested);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadUInt16(out ushort bytesRequested);
        input = new In(bytesRequested);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        int n = Math.Min((int)input.BytesRequested, Crypto.TpmHash.MaxDigestSize);
        Span<byte> randomBytes = stackalloc byte[Crypto.TpmHash.MaxDigestSize];
        tpm.Random.Generate(randomBytes[..n]);
        f.Response.WriteSized16(randomBytes[..n]);
        return TpmRc.Success;
    }
}
