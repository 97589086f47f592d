using Vtpm.Tpm2.Commands.Hash;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHash(List<CommandDescriptor> t)
    {
        t.Add(Entry<HashIn, HashOut>(Hash.Execute));
        t.Add(Entry<HashSequenceStartIn, HashSequenceStartOut>(HashSequenceStart.Execute));
        t.Add(Entry<SequenceUpdateIn, SequenceUpdateOut>(SequenceUpdate.Execute));
        t.Add(Entry<SequenceCompleteIn, SequenceCompleteOut>(SequenceComplete.Execute));
        t.Add(Entry<EventSequenceCompleteIn, EventSequenceCompleteOut>(EventSequenceComplete.Execute));
    }
}
