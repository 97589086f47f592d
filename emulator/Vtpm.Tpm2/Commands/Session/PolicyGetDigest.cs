using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Session;

/// <summary>
/// TPM 2.0 Part 3 §23.19 TPM2_PolicyGetDigest: returns the current policyDigest of a policy or trial
/// session. Response codes: none of its own.
/// </summary>
public static class PolicyGetDigest
{
    public readonly record struct In(uint PolicySession);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = new In(f.Handles[0]);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Sessions.TryGetLoaded(input.PolicySession, out var session) || !session.IsPolicy) return TpmRc.ReferenceHandle(0);
        f.Response.WriteSized16(session.PolicyDigest);
        return TpmRc.Success;
    }
}
