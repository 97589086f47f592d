using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>Runs self tests and tracks which algorithms passed since _TPM_Init (Part 1 §12.5).</summary>
public static class TestingSupport
{
    /// <summary>Tests <paramref name="alg"/> unless it passed already; a failure puts the TPM in failure mode.</summary>
    public static TpmRc Test(Tpm2Engine tpm, TpmAlgId alg, bool force)
    {
        var tested = tpm.Random.TestedAlgorithms;
        if (!force && tested.Contains(alg)) return TpmRc.Success;
        if (!SelfTests.Run(alg))
        {
            tpm.EnterFailureMode($"self test of {alg} failed");
            return TpmRc.Failure;
        }
        tested.Add(alg);
        return TpmRc.Success;
    }

    /// <summary>The implemented algorithms not yet tested, in <see cref="ImplementedAlgorithms.All"/>'s order, as a TPML_ALG.</summary>
    public static void Untested(Tpm2Engine tpm, ref TpmlAlg list)
    {
        list.Count = 0;
        foreach (var (alg, _) in ImplementedAlgorithms.All)
            if (!tpm.Random.TestedAlgorithms.Contains(alg)) list.Algorithms[(int)list.Count++] = alg;
    }
}
