using Vtpm.Tpm2.Commands.Signing;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddSigning(List<CommandDescriptor> t)
    {
        t.Add(Entry<SignIn, SignOut>(Sign.Execute));
        t.Add(Entry<VerifySignatureIn, VerifySignatureOut>(VerifySignature.Execute));
    }
}
