using Vtpm.Tpm2.Commands.Hierarchy;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddHierarchy(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.HierarchyControl, HierarchyControl.Execute, CommandFlags.None, new HandleSpec(HandleKind.Hierarchy, AuthRole.User)));
        t.Add(Entry(TpmCc.HierarchyChangeAuth, HierarchyChangeAuth.Execute, CommandFlags.DecryptParameter, new HandleSpec(HandleKind.HierarchyAuth, AuthRole.User)));
        t.Add(Entry(TpmCc.SetPrimaryPolicy, SetPrimaryPolicy.Execute, CommandFlags.DecryptParameter, new HandleSpec(HandleKind.HierarchyPolicy, AuthRole.User)));
        t.Add(Entry(TpmCc.Clear, Clear.Execute, CommandFlags.None, new HandleSpec(HandleKind.Clear, AuthRole.User)));
        t.Add(Entry(TpmCc.ClearControl, ClearControl.Execute, CommandFlags.None, new HandleSpec(HandleKind.Clear, AuthRole.User)));
        t.Add(Entry(TpmCc.ChangePPS, ChangePps.Execute, CommandFlags.None, new HandleSpec(HandleKind.Platform, AuthRole.User)));
        t.Add(Entry(TpmCc.ChangeEPS, ChangeEps.Execute, CommandFlags.None, new HandleSpec(HandleKind.Platform, AuthRole.User)));
    }
}
