using Vtpm.Tpm2.Commands.Context;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    // Part 3 §28 Context Management.
    static partial void AddContext(List<CommandDescriptor> t)
    {
        t.Add(Entry<ContextSaveIn, ContextSaveOut>(ContextSave.Execute));
        t.Add(Entry<ContextLoadIn, ContextLoadOut>(ContextLoad.Execute));
        t.Add(Entry<FlushContextIn, FlushContextOut>(FlushContext.Execute));
        t.Add(Entry<EvictControlIn, EvictControlOut>(EvictControl.Execute));
    }
}
