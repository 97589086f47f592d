using Vtpm.Tpm2.Commands.PCR;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddPcr(List<CommandDescriptor> t)
    {
        var pcrOrNull = new HandleSpec(HandleKind.Pcr, AuthRole.User, AllowNull: true);
        var pcr = new HandleSpec(HandleKind.Pcr, AuthRole.User);
        var platform = new HandleSpec(HandleKind.Platform, AuthRole.User);
        t.Add(Entry(TpmCc.PcrExtend, PcrExtend.Execute, CommandFlags.None, pcrOrNull));
        t.Add(Entry(TpmCc.PcrEvent, PcrEvent.Execute, CommandFlags.DecryptParameter, pcrOrNull));
        t.Add(Entry(TpmCc.PcrRead, PcrRead.Execute));
        t.Add(Entry(TpmCc.PcrAllocate, PcrAllocate.Execute, CommandFlags.None, platform));
        t.Add(Entry(TpmCc.PcrSetAuthPolicy, PcrSetAuthPolicy.Execute, CommandFlags.DecryptParameter, platform));
        t.Add(Entry(TpmCc.PcrSetAuthValue, PcrSetAuthValue.Execute, CommandFlags.DecryptParameter, pcr));
        t.Add(Entry(TpmCc.PcrReset, PcrReset.Execute, CommandFlags.None, pcr));
    }
}
