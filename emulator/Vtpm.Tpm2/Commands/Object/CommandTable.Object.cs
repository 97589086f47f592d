using Vtpm.Tpm2.Commands.Object;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

public static partial class CommandTable
{
    static partial void AddObject(List<CommandDescriptor> t)
    {
        t.Add(Entry<CreatePrimaryIn, CreatePrimaryOut>(CreatePrimary.Execute));
        t.Add(Entry<ReadPublicIn, ReadPublicOut>(ReadPublic.Execute));
        t.Add(Entry<CreateIn, CreateOut>(Create.Execute));
        t.Add(Entry<LoadIn, LoadOut>(Load.Execute));
        t.Add(Entry<UnsealIn, UnsealOut>(Unseal.Execute));
        t.Add(Entry<LoadExternalIn, LoadExternalOut>(LoadExternal.Execute));
    }
}
