using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Session;

/// <summary>
/// TPM 2.0 Part 3 §11.2 TPM2_PolicyRestart: puts a policy session back in the state StartAuthSession
/// left it (policyDigest all zeros, no PolicyAuthValue/PolicyPassword). Response codes: none of its own
/// (a handle that is not a loaded policy session is answered by the dispatcher).
/// </summary>
public static class PolicyRestart
{
    public readonly record struct In(uint SessionHandle);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = new In(f.Handles[0]);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Sessions.TryGetLoaded(input.SessionHandle, out var session) || !session.IsPolicy) return TpmRc.ReferenceHandle(0);
        session.ResetPolicy();
        return TpmRc.Success;
    }
}
