using Vtpm.Tpm2.Commands.Hierarchy;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHierarchy(List<CommandDescriptor> t)
    {
        t.Add(Entry<HierarchyControlIn, HierarchyControlOut>(HierarchyControl.Execute));
        t.Add(Entry<HierarchyChangeAuthIn, HierarchyChangeAuthOut>(HierarchyChangeAuth.Execute));
        t.Add(Entry<SetPrimaryPolicyIn, SetPrimaryPolicyOut>(SetPrimaryPolicy.Execute));
        t.Add(Entry<ClearIn, ClearOut>(Clear.Execute));
        t.Add(Entry<ClearControlIn, ClearControlOut>(ClearControl.Execute));
        t.Add(Entry<ChangePPSIn, ChangePPSOut>(ChangePps.Execute));
        t.Add(Entry<ChangeEPSIn, ChangeEPSOut>(ChangeEps.Execute));
    }
}
