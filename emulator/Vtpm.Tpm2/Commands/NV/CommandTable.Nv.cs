using Vtpm.Tpm2.Commands.NV;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddNv(List<CommandDescriptor> t)
    {
        var nvAuth = new HandleSpec(HandleKind.NvAuth, AuthRole.User);
        var nvIndex = new HandleSpec(HandleKind.NvIndex);
        var provision = new HandleSpec(HandleKind.Provision, AuthRole.User);
        t.Add(Entry(TpmCc.NvDefineSpace, NvDefineSpace.Execute, CommandFlags.DecryptParameter, provision));
        t.Add(Entry(TpmCc.NvUndefineSpace, NvUndefineSpace.Execute, CommandFlags.None, provision, nvIndex));
        t.Add(Entry(TpmCc.NvUndefineSpaceSpecial, NvUndefineSpaceSpecial.Execute, CommandFlags.None,
            new HandleSpec(HandleKind.NvIndex, AuthRole.Admin), new HandleSpec(HandleKind.Platform, AuthRole.User)));
        t.Add(Entry(TpmCc.NvReadPublic, NvReadPublic.Execute, CommandFlags.EncryptParameter, nvIndex));
        t.Add(Entry(TpmCc.NvWrite, NvWrite.Execute, CommandFlags.DecryptParameter, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvIncrement, NvIncrement.Execute, CommandFlags.None, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvExtend, NvExtend.Execute, CommandFlags.DecryptParameter, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvSetBits, NvSetBits.Execute, CommandFlags.None, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvWriteLock, NvWriteLock.Execute, CommandFlags.None, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvGlobalWriteLock, NvGlobalWriteLock.Execute, CommandFlags.None, provision));
        t.Add(Entry(TpmCc.NvRead, NvRead.Execute, CommandFlags.EncryptParameter, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvReadLock, NvReadLock.Execute, CommandFlags.None, nvAuth, nvIndex));
        t.Add(Entry(TpmCc.NvChangeAuth, NvChangeAuth.Execute, CommandFlags.DecryptParameter, new HandleSpec(HandleKind.NvIndex, AuthRole.Admin)));
    }
}
