using Vtpm.Tpm2.Commands.Startup;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddStartup(List<CommandDescriptor> t)
    {
        t.Add(Entry<StartupIn, StartupOut>(Startup.Execute));
        t.Add(Entry<ShutdownIn, ShutdownOut>(Shutdown.Execute));
    }
}
