using Vtpm.Tpm2.Commands.DictionaryAttack;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddDictionaryAttack(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.DictionaryAttackLockReset, DictionaryAttackLockReset.Execute));
        t.Add(Entry(TpmCc.DictionaryAttackParameters, DictionaryAttackParameters.Execute));
    }
}
