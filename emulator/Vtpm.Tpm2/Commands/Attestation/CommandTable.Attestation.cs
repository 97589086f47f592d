using Vtpm.Tpm2.Commands.Attestation;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddAttestation(List<CommandDescriptor> t)
    {
        t.Add(Entry<QuoteIn, QuoteOut>(Quote.Execute));
        t.Add(Entry<GetTimeIn, GetTimeOut>(GetTime.Execute));
        t.Add(Entry<CertifyIn, CertifyOut>(Certify.Execute));
    }
}
