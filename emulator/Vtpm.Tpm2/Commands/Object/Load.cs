using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §12.2 TPM2_Load: loads an object that TPM2_Create wrapped for this parent. Response codes:
/// TPM_RC_TYPE (the parent is not a storage key, handle 1), TPM_RC_INTEGRITY (inPrivate was not made for this parent
/// and this public area, or was changed, parameter 1), TPM_RC_SIZE (inPrivate's own sizes, parameter 1), the template
/// checks (parameter 2), TPM_RC_TYPE (the sensitive area is of another type, parameter 2), TPM_RC_BINDING (public and
/// sensitive areas do not belong together, parameter 2), TPM_RC_OBJECT_MEMORY.
/// </summary>
public static class Load
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in LoadIn input, ref LoadOut output)
    {
        var rc = StorageParent.Get(tpm, input.ParentHandle, out var parent);
        if (rc.IsError) return rc;
        ref readonly var pub = ref input.InPublic.PublicArea;
        rc = PublicAreaChecks.Check(pub, parent.Has(TpmaObject.FixedTPM), 0);
        // A loaded object may hold data the caller gave at creation: sensitiveDataOrigin CLEAR is not an error here.
        if (rc.IsError && rc != TpmRc.Attributes) return rc.ForParameter(2);
        if (!tpm.Objects.HasFreeSlot) return TpmRc.ObjectMemory;

        var name = KeyObject.NameOf(pub);
        rc = StorageProtection.Unprotect(parent.Public.NameAlg, parent.Sensitive.SeedValue.Span, StorageParent.SymmetricKeyBits(parent),
            name, input.InPrivate, out var sensitive);
        if (rc.IsError) return rc.ForParameter(1);
        if (sensitive.SensitiveType != pub.Type) return TpmRc.Type.ForParameter(2);
        rc = Binding.Check(pub, sensitive);
        if (rc.IsError) return rc.ForParameter(2);

        var key = new KeyObject(pub, sensitive, parent.Hierarchy, parent.QualifiedName);
        output.ObjectHandle = tpm.Objects.AddKey(key)!.Value;
        output.Name = Tpm2bName.From(key.Name);
        return TpmRc.Success;
    }
}
