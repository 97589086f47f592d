using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §12.3 TPM2_LoadExternal: loads a key the TPM did not make — a public area alone (to verify
/// signatures, in any hierarchy), or with its sensitive area (only in the null hierarchy, never fixedTPM or
/// fixedParent). Response codes: TPM_RC_HIERARCHY (a sensitive area outside the null hierarchy, parameter 3),
/// TPM_RC_ATTRIBUTES (fixedTPM or fixedParent with a sensitive area, parameter 2), TPM_RC_TYPE and TPM_RC_BINDING (the
/// areas do not belong together, parameter 2), TPM_RC_OBJECT_MEMORY.
/// </summary>
public static class LoadExternal
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in LoadExternalIn input, ref LoadExternalOut output)
    {
        ref readonly var pub = ref input.InPublic.PublicArea;
        bool withPrivate = input.InPrivate.Size != 0;
        if (withPrivate)
        {
            if (input.Hierarchy != (uint)TpmRh.Null) return TpmRc.Hierarchy.ForParameter(3);
            if ((pub.ObjectAttributes & (TpmaObject.FixedTPM | TpmaObject.FixedParent)) != 0) return TpmRc.Attributes.ForParameter(2);
            if (input.InPrivate.SensitiveArea.SensitiveType != pub.Type) return TpmRc.Type.ForParameter(2);
            var rc = Binding.Check(pub, input.InPrivate.SensitiveArea);
            if (rc.IsError) return rc.ForParameter(2);
        }
        else if (!tpm.Hierarchy.IsEnabled(input.Hierarchy))
        {
            return TpmRc.Hierarchy.ForParameter(3);
        }
        if (!tpm.Objects.HasFreeSlot) return TpmRc.ObjectMemory;

        var key = new KeyObject(pub, withPrivate ? input.InPrivate.SensitiveArea : default, input.Hierarchy, KeyObject.HandleName(input.Hierarchy))
        {
            IsPublicOnly = !withPrivate,
        };
        uint handle = tpm.Objects.AddKey(key)!.Value;
        if (key.Name.Length == 0) key.Name = KeyObject.HandleName(handle);
        output.ObjectHandle = handle;
        output.Name = Tpm2bName.From(key.Name);
        return TpmRc.Success;
    }
}
