using Vtpm.Tpm2.Commands.Testing;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddTesting(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.SelfTest, SelfTest.Execute));
        t.Add(Entry(TpmCc.IncrementalSelfTest, IncrementalSelfTest.Execute));
        t.Add(Entry(TpmCc.GetTestResult, GetTestResult.Execute));
    }
}
