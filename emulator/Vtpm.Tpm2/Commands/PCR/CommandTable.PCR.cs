using Vtpm.Tpm2.Commands.PCR;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddPcr(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.PcrExtend, PcrExtend.Execute));
        t.Add(Entry(TpmCc.PcrEvent, PcrEvent.Execute));
        t.Add(Entry(TpmCc.PcrRead, PcrRead.Execute));
        t.Add(Entry(TpmCc.PcrAllocate, PcrAllocate.Execute));
        t.Add(Entry(TpmCc.PcrSetAuthPolicy, PcrSetAuthPolicy.Execute));
        t.Add(Entry(TpmCc.PcrSetAuthValue, PcrSetAuthValue.Execute));
        t.Add(Entry(TpmCc.PcrReset, PcrReset.Execute));
    }
}
