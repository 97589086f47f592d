using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Session;

/// <summary>
/// TPM 2.0 Part 3 §11.2 TPM2_PolicyRestart: puts a policy session back in the state StartAuthSession
/// left it (policyDigest all zeros, no PolicyAuthValue/PolicyPassword). Response codes: none of its own
/// (a handle that is not a loaded policy session is answered by the dispatcher).
/// </summary>
public static class PolicyRestart
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in PolicyRestartIn input, ref PolicyRestartOut output)
    {
        if (!tpm.Sessions.TryGetLoaded(input.SessionHandle, out var session) || !session.IsPolicy) return TpmRc.ReferenceHandle(0);
        session.ResetPolicy();
        return TpmRc.Success;
    }
}
