using Vtpm.Tpm2.Commands.Symmetric;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddSymmetric(List<CommandDescriptor> t)
    {
        t.Add(Entry<EncryptDecryptIn, EncryptDecryptOut>(EncryptDecrypt.Execute));
        t.Add(Entry<EncryptDecrypt2In, EncryptDecrypt2Out>(EncryptDecrypt.Execute2));
        t.Add(Entry<HmacIn, HmacOut>(Hmac.Execute));
    }
}
