using Vtpm.Tpm2.Commands.Testing;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddTesting(List<CommandDescriptor> t)
    {
        t.Add(Entry<SelfTestIn, SelfTestOut>(SelfTest.Execute));
        t.Add(Entry<IncrementalSelfTestIn, IncrementalSelfTestOut>(IncrementalSelfTest.Execute));
        t.Add(Entry<GetTestResultIn, GetTestResultOut>(GetTestResult.Execute));
    }
}
