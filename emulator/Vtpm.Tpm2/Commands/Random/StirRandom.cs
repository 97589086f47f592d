using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Random;

/// <summary>
/// TPM 2.0 Part 3 §16.2 TPM2_StirRandom: inData (TPM2B_SENSITIVE_DATA, at most 128 bytes) is added to
/// the DRBG state as additional input of a reseed. Response codes: TPM_RC_SIZE (inData too large).
/// </summary>
public static class StirRandom
{
    /// <summary>MAX_SYM_DATA: the largest TPM2B_SENSITIVE_DATA (Part 2 §11.1.14).</summary>
    public const int MaxSymData = 128;

    public readonly ref struct In(ReadOnlySpan<byte> inData)
    {
        public ReadOnlySpan<byte> InData { get; } = inData;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadSized16(out var inData, MaxSymData);
        input = new In(inData);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        tpm.Random.Stir(input.InData);
        return TpmRc.Success;
    }
}
