using Vtpm.Tpm2.Commands.Clock;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddClock(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.ReadClock, ReadClock.Execute));
        t.Add(Entry(TpmCc.ClockSet, ClockSet.Execute));
        t.Add(Entry(TpmCc.ClockRateAdjust, ClockRateAdjust.Execute));
    }
}
