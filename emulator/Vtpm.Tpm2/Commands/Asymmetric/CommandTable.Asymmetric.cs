using Vtpm.Tpm2.Commands.Asymmetric;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddAsymmetric(List<CommandDescriptor> t)
    {
        t.Add(Entry<RsaEncryptIn, RsaEncryptOut>(RsaEncrypt.Execute));
        t.Add(Entry<RsaDecryptIn, RsaDecryptOut>(RsaDecrypt.Execute));
        t.Add(Entry<EcdhKeyGenIn, EcdhKeyGenOut>(Ecdh.KeyGen));
        t.Add(Entry<EcdhZGenIn, EcdhZGenOut>(Ecdh.ZGen));
    }
}
