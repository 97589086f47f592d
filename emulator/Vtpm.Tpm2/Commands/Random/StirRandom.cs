using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Random;

/// <summary>
/// TPM 2.0 Part 3 §16.2 TPM2_StirRandom: inData (TPM2B_SENSITIVE_DATA, at most MAX_SYM_DATA bytes: larger is
/// TPM_RC_SIZE for parameter 1, from the generated unmarshal) is added to the DRBG state as additional input of
/// a reseed.
/// </summary>
public static class StirRandom
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in StirRandomIn input, ref StirRandomOut output)
    {
        tpm.Random.Stir(input.InData.Span);
        return TpmRc.Success;
    }
}
