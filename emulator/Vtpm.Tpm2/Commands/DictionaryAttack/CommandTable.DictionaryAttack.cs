using Vtpm.Tpm2.Commands.DictionaryAttack;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddDictionaryAttack(List<CommandDescriptor> t)
    {
        t.Add(Entry<DictionaryAttackLockResetIn, DictionaryAttackLockResetOut>(DictionaryAttackLockReset.Execute));
        t.Add(Entry<DictionaryAttackParametersIn, DictionaryAttackParametersOut>(DictionaryAttackParameters.Execute));
    }
}
