using Vtpm.Tpm2.Commands.Clock;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddClock(List<CommandDescriptor> t)
    {
        t.Add(Entry<ReadClockIn, ReadClockOut>(ReadClock.Execute));
        t.Add(Entry<ClockSetIn, ClockSetOut>(ClockSet.Execute));
        t.Add(Entry<ClockRateAdjustIn, ClockRateAdjustOut>(ClockRateAdjust.Execute));
    }
}
