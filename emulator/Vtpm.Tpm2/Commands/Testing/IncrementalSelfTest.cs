using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.3 TPM2_IncrementalSelfTest: tests the listed algorithms not yet tested (algorithms
/// not implemented are ignored) and returns toDoList, the implemented algorithms still untested.
/// Response codes: TPM_RC_SIZE (parameter 1, more than MAX_ALG_LIST_SIZE entries), TPM_RC_FAILURE.
/// </summary>
public static class IncrementalSelfTest
{
    /// <summary>MAX_ALG_LIST_SIZE (Part 2 §10.9.4 TPML_ALG).</summary>
    public const int MaxAlgListSize = 64;

    public readonly record struct In(TpmAlgId[] ToTest);

    static TpmRc ReadAlgList(ref TpmReader r, out TpmAlgId[] list)
    {
        list = [];
        int start = r.Position;
        if (!r.TryReadUInt32(out uint count)) return TpmRc.Insufficient;
        if (count > MaxAlgListSize) { r.Rewind(start); return TpmRc.Size; }
        var result = new TpmAlgId[count];
        for (int i = 0; i < count; i++)
        {
            if (!r.TryReadUInt16(out ushort alg)) { r.Rewind(start); return TpmRc.Insufficient; }
            result[i] = (TpmAlgId)alg;
        }
        list = result;
        return TpmRc.Success;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadStructure<TpmAlgId[]>(ReadAlgList, out var list);
        input = new In(list);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        foreach (var alg in input.ToTest)
        {
            if (!ImplementedAlgorithms.IsImplemented(alg)) continue;
            rc = TestingSupport.Test(tpm, alg, force: false);
            if (rc.IsError) return rc;
        }
        var toDo = TestingSupport.Untested(tpm);
        f.Response.WriteUInt32((uint)toDo.Count);
        foreach (var alg in toDo) f.Response.WriteUInt16((ushort)alg);
        return TpmRc.Success;
    }
}
