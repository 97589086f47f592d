using Vtpm.Tpm2.Commands.PCR;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddPcr(List<CommandDescriptor> t)
    {
        t.Add(Entry<PcrExtendIn, PcrExtendOut>(PcrExtend.Execute));
        t.Add(Entry<PcrEventIn, PcrEventOut>(PcrEvent.Execute));
        t.Add(Entry<PcrReadIn, PcrReadOut>(PcrRead.Execute));
        t.Add(Entry<PcrAllocateIn, PcrAllocateOut>(PcrAllocate.Execute));
        t.Add(Entry<PcrSetAuthPolicyIn, PcrSetAuthPolicyOut>(PcrSetAuthPolicy.Execute));
        t.Add(Entry<PcrSetAuthValueIn, PcrSetAuthValueOut>(PcrSetAuthValue.Execute));
        t.Add(Entry<PcrResetIn, PcrResetOut>(PcrReset.Execute));
    }
}
