using Vtpm.Tpm2.Commands.Capability;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddCapability(List<CommandDescriptor> t)
    {
        t.Add(Entry<GetCapabilityIn, GetCapabilityOut>(GetCapability.Execute));
        t.Add(Entry<TestParmsIn, TestParmsOut>(TestParms.Execute));
    }
}
