using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.3 TPM2_IncrementalSelfTest: tests the listed algorithms not yet tested (algorithms
/// not implemented are ignored) and returns toDoList, the implemented algorithms still untested.
/// Response codes: TPM_RC_SIZE (parameter 1, more than MAX_ALG_LIST_SIZE entries: the generated TPML_ALG),
/// TPM_RC_FAILURE.
/// </summary>
public static class IncrementalSelfTest
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in IncrementalSelfTestIn input, ref IncrementalSelfTestOut output)
    {
        ReadOnlySpan<TpmAlgId> toTest = ((ReadOnlySpan<TpmAlgId>)input.ToTest.Algorithms)[..(int)input.ToTest.Count];
        foreach (var alg in toTest)
        {
            if (!ImplementedAlgorithms.IsImplemented(alg)) continue;
            var rc = TestingSupport.Test(tpm, alg, force: false);
            if (rc.IsError) return rc;
        }
        TestingSupport.Untested(tpm, ref output.ToDoList);
        return TpmRc.Success;
    }
}
