using Vtpm.Tpm2.Commands.Hash;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHash(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.Hash, Hash.Execute));
        t.Add(Entry(TpmCc.HashSequenceStart, HashSequenceStart.Execute));
        t.Add(Entry(TpmCc.SequenceUpdate, SequenceUpdate.Execute));
        t.Add(Entry(TpmCc.SequenceComplete, SequenceComplete.Execute));
        t.Add(Entry<EventSequenceCompleteIn, EventSequenceCompleteOut>(EventSequenceComplete.Execute));
    }
}
