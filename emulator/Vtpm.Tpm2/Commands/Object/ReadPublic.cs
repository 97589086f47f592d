using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §12.4 TPM2_ReadPublic: the public area, Name and Qualified Name of a loaded object. Response codes:
/// TPM_RC_SEQUENCE (a sequence object has no public area).
/// </summary>
public static class ReadPublic
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ReadPublicIn input, ref ReadPublicOut output)
    {
        if (tpm.Objects.GetKey(input.ObjectHandle) is not { } key) return TpmRc.Sequence;
        output.OutPublic.PublicArea = key.Public;
        output.Name = Tpm2bName.From(key.Name);
        output.QualifiedName = Tpm2bName.From(key.QualifiedName);
        return TpmRc.Success;
    }
}
