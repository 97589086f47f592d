using Vtpm.Tpm2.Commands.NV;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddNv(List<CommandDescriptor> t)
    {
        t.Add(Entry(TpmCc.NvDefineSpace, NvDefineSpace.Execute));
        t.Add(Entry(TpmCc.NvUndefineSpace, NvUndefineSpace.Execute));
        t.Add(Entry(TpmCc.NvUndefineSpaceSpecial, NvUndefineSpaceSpecial.Execute));
        t.Add(Entry(TpmCc.NvReadPublic, NvReadPublic.Execute));
        t.Add(Entry(TpmCc.NvWrite, NvWrite.Execute));
        t.Add(Entry(TpmCc.NvIncrement, NvIncrement.Execute));
        t.Add(Entry(TpmCc.NvExtend, NvExtend.Execute));
        t.Add(Entry(TpmCc.NvSetBits, NvSetBits.Execute));
        t.Add(Entry(TpmCc.NvWriteLock, NvWriteLock.Execute));
        t.Add(Entry(TpmCc.NvGlobalWriteLock, NvGlobalWriteLock.Execute));
        t.Add(Entry(TpmCc.NvRead, NvRead.Execute));
        t.Add(Entry(TpmCc.NvReadLock, NvReadLock.Execute));
        t.Add(Entry(TpmCc.NvChangeAuth, NvChangeAuth.Execute));
    }
}
