using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Context;

/// <summary>
/// TPM 2.0 Part 3 §28.5 TPM2_EvictControl: makes a loaded object persistent at persistentHandle, or removes the
/// persistent object at objectHandle. The owner uses 0x81000000–0x817FFFFF, the platform 0x81800000–0x81FFFFFF.
/// Response codes: TPM_RC_RANGE (persistentHandle outside the authorizing hierarchy's range, parameter 1),
/// TPM_RC_HANDLE (removing with a persistentHandle other than objectHandle, parameter 1), TPM_RC_HIERARCHY (an object
/// of the null hierarchy, or of a hierarchy the authorization may not persist, handle 2), TPM_RC_ATTRIBUTES (stClear
/// or public-only, handle 2), TPM_RC_NV_DEFINED (persistentHandle taken), TPM_RC_NV_SPACE (no room).
/// </summary>
public static class EvictControl
{
    const uint PlatformFirst = 0x81800000;

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in EvictControlIn input, ref EvictControlOut output)
    {
        uint persistent = input.PersistentHandle;
        bool platformRange = persistent >= PlatformFirst;
        if (platformRange != (input.Auth == (uint)TpmRh.Platform)) return TpmRc.Range.ForParameter(1);

        if (HandleKinds.TypeOf(input.ObjectHandle) == TpmHt.Persistent)
        {
            if (input.ObjectHandle != persistent) return TpmRc.Handle.ForParameter(1);
            tpm.Objects.Evict(persistent);
            return TpmRc.Success;
        }

        if (tpm.Objects.GetKey(input.ObjectHandle) is not { } key) return TpmRc.Handle.ForHandle(2);
        if (key.Hierarchy == (uint)TpmRh.Null) return TpmRc.Hierarchy.ForHandle(2);
        if ((input.Auth == (uint)TpmRh.Platform) != (key.Hierarchy == (uint)TpmRh.Platform)) return TpmRc.Hierarchy.ForHandle(2);
        if (key.Has(TpmaObject.StClear) || key.IsPublicOnly) return TpmRc.Attributes.ForHandle(2);
        if (tpm.Objects.IsPersistent(persistent)) return TpmRc.NvDefined;
        if (!tpm.Objects.HasPersistentRoom) return TpmRc.NvSpace;
        tpm.Objects.Persist(persistent, key);
        return TpmRc.Success;
    }
}
