using Vtpm.Tpm2.Commands.Session;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    // Part 3 §11 Session Commands, and TPM2_PolicyGetDigest (§23.19) which reads the same session state.
    static partial void AddSession(List<CommandDescriptor> t)
    {
        t.Add(Entry<StartAuthSessionIn, StartAuthSessionOut>(StartAuthSession.Execute));
        t.Add(Entry<PolicyRestartIn, PolicyRestartOut>(PolicyRestart.Execute));
        t.Add(Entry<PolicyGetDigestIn, PolicyGetDigestOut>(PolicyGetDigest.Execute));
    }
}
