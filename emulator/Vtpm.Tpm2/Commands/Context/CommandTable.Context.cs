using Vtpm.Tpm2.Commands.Context;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    // Part 3 §28 Context Management (EvictControl comes with persistent objects).
    static partial void AddContext(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.ContextSave, ContextSave.Execute));
        t.Add(Entry(TpmCc.ContextLoad, ContextLoad.Execute));
        t.Add(Entry(TpmCc.FlushContext, FlushContext.Execute));
    }
}
