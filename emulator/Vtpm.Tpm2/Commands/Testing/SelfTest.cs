using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.2 TPM2_SelfTest: fullTest YES tests every implemented algorithm, NO only those not
/// yet tested. Tests run to completion before the response. Response codes: TPM_RC_VALUE (parameter 1,
/// not a TPMI_YES_NO: the generated unmarshal), TPM_RC_FAILURE (a test failed; the TPM is now in failure mode).
/// </summary>
public static class SelfTest
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in SelfTestIn input, ref SelfTestOut output)
    {
        bool fullTest = input.FullTest != 0;
        foreach (var (alg, _) in ImplementedAlgorithms.All)
        {
            var rc = TestingSupport.Test(tpm, alg, fullTest);
            if (rc.IsError) return rc;
        }
        return TpmRc.Success;
    }
}
