using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.2 TPM2_SelfTest: fullTest YES tests every implemented algorithm, NO only those not
/// yet tested. Tests run to completion before the response. Response codes: TPM_RC_VALUE (parameter 1,
/// not a TPMI_YES_NO), TPM_RC_FAILURE (a test failed; the TPM is now in failure mode).
/// </summary>
public static class SelfTest
{
    public readonly record struct In(bool FullTest);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadYesNo(out bool full);
        input = new In(full);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        foreach (var (alg, _) in ImplementedAlgorithms.All)
        {
            rc = TestingSupport.Test(tpm, alg, input.FullTest);
            if (rc.IsError) return rc;
        }
        return TpmRc.Success;
    }
}
