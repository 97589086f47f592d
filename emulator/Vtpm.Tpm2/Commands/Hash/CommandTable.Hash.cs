using Vtpm.Tpm2.Commands.Hash;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHash(List<CommandDescriptor> t)
    {
        var sequence = new HandleSpec(HandleKind.Object, AuthRole.User);
        t.Add(Entry(TpmCc.Hash, Hash.Execute, CommandFlags.DecryptParameter | CommandFlags.EncryptParameter));
        t.Add(Entry(TpmCc.HashSequenceStart, HashSequenceStart.Execute, CommandFlags.DecryptParameter | CommandFlags.ResponseHandle));
        t.Add(Entry(TpmCc.SequenceUpdate, SequenceUpdate.Execute, CommandFlags.DecryptParameter, sequence));
        t.Add(Entry(TpmCc.SequenceComplete, SequenceComplete.Execute, CommandFlags.DecryptParameter | CommandFlags.EncryptParameter, sequence));
        t.Add(Entry(TpmCc.EventSequenceComplete, EventSequenceComplete.Execute, CommandFlags.DecryptParameter,
            new HandleSpec(HandleKind.Pcr, AuthRole.User, AllowNull: true), sequence));
    }
}
