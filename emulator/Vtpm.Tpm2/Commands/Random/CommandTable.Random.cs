using Vtpm.Tpm2.Commands.Random;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddRandom(List<CommandDescriptor> t)
    {
        t.Add(Entry<GetRandomIn, GetRandomOut>(GetRandom.Execute));
        t.Add(Entry<StirRandomIn, StirRandomOut>(StirRandom.Execute));
    }
}
