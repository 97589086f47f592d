using Vtpm.Tpm2.Commands.Hierarchy;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHierarchy(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.HierarchyControl, HierarchyControl.Execute));
        t.Add(Entry(TpmCc.HierarchyChangeAuth, HierarchyChangeAuth.Execute));
        t.Add(Entry(TpmCc.SetPrimaryPolicy, SetPrimaryPolicy.Execute));
        t.Add(Entry(TpmCc.Clear, Clear.Execute));
        t.Add(Entry(TpmCc.ClearControl, ClearControl.Execute));
        t.Add(Entry(TpmCc.ChangePPS, ChangePps.Execute));
        t.Add(Entry(TpmCc.ChangeEPS, ChangeEps.Execute));
    }
}
