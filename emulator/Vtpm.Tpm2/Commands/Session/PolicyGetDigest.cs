using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Session;

/// <summary>
/// TPM 2.0 Part 3 §23.19 TPM2_PolicyGetDigest: returns the current policyDigest of a policy or trial
/// session. Response codes: none of its own.
/// </summary>
public static class PolicyGetDigest
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PolicyGetDigestIn input, ref PolicyGetDigestOut output)
    {
        if (!tpm.Sessions.TryGetLoaded(input.PolicySession, out var session) || !session.IsPolicy) return TpmRc.ReferenceHandle(0);
        output.PolicyDigest = Tpm2bDigest.From(session.PolicyDigest);
        return TpmRc.Success;
    }
}
