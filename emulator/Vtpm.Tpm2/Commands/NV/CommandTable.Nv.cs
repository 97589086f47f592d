using Vtpm.Tpm2.Commands.NV;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddNv(List<CommandDescriptor> t)
    {
        t.Add(Entry<NvDefineSpaceIn, NvDefineSpaceOut>(NvDefineSpace.Execute));
        t.Add(Entry<NvUndefineSpaceIn, NvUndefineSpaceOut>(NvUndefineSpace.Execute));
        t.Add(Entry<NvUndefineSpaceSpecialIn, NvUndefineSpaceSpecialOut>(NvUndefineSpaceSpecial.Execute));
        t.Add(Entry<NvReadPublicIn, NvReadPublicOut>(NvReadPublic.Execute));
        t.Add(Entry<NvWriteIn, NvWriteOut>(NvWrite.Execute));
        t.Add(Entry<NvIncrementIn, NvIncrementOut>(NvIncrement.Execute));
        t.Add(Entry<NvExtendIn, NvExtendOut>(NvExtend.Execute));
        t.Add(Entry<NvSetBitsIn, NvSetBitsOut>(NvSetBits.Execute));
        t.Add(Entry<NvWriteLockIn, NvWriteLockOut>(NvWriteLock.Execute));
        t.Add(Entry<NvGlobalWriteLockIn, NvGlobalWriteLockOut>(NvGlobalWriteLock.Execute));
        t.Add(Entry<NvReadIn, NvReadOut>(NvRead.Execute));
        t.Add(Entry<NvReadLockIn, NvReadLockOut>(NvReadLock.Execute));
        t.Add(Entry<NvChangeAuthIn, NvChangeAuthOut>(NvChangeAuth.Execute));
    }
}
