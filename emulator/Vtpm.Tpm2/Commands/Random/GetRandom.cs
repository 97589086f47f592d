using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Random;

/// <summary>
/// TPM 2.0 Part 3 §16.1 TPM2_GetRandom. Returns at most the largest digest size of any implemented
/// hash (the TPM may return fewer bytes than requested, never more). Response codes: none of its own.
/// </summary>
public static class GetRandom
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in GetRandomIn input, ref GetRandomOut output)
    {
        int n = Math.Min((int)input.BytesRequested, Crypto.TpmHash.MaxDigestSize);
        output.RandomBytes.Size = (ushort)n;
        tpm.Random.Generate(((Span<byte>)output.RandomBytes.Buffer)[..n]);
        return TpmRc.Success;
    }
}
