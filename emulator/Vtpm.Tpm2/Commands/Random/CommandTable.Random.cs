using Vtpm.Tpm2.Commands.Random;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddRandom(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.GetRandom, GetRandom.Execute));
        t.Add(Entry(TpmCc.StirRandom, StirRandom.Execute));
    }
}
