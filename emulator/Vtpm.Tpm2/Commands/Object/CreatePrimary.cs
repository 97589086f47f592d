using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §24.1 TPM2_CreatePrimary: creates a primary object under a hierarchy — its key derived from the
/// hierarchy's seed and the template, so the same template gives the same key until the seed changes — and loads it.
/// Response codes: TPM_RC_SIZE (userAuth longer than the nameAlg digest, parameter 1; data for an asymmetric key or
/// an authPolicy of the wrong size, parameter 2), TPM_RC_ATTRIBUTES / TPM_RC_SYMMETRIC / TPM_RC_SCHEME / TPM_RC_VALUE /
/// TPM_RC_TYPE (template checks, parameter 2), TPM_RC_KEY_SIZE and TPM_RC_CURVE (sizes and curves this TPM lacks,
/// parameter 2), TPM_RC_OBJECT_MEMORY (no free slot).
/// </summary>
public static class CreatePrimary
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in CreatePrimaryIn input, ref CreatePrimaryOut output)
    {
        ref readonly var template = ref input.InPublic.PublicArea;
        ref readonly var sensitive = ref input.InSensitive.Sensitive;
        int digestSize = TpmHash.DigestSize(template.NameAlg);
        if (sensitive.UserAuth.Size > digestSize) return TpmRc.Size.ForParameter(1);
        // Primary objects descend from a hierarchy, whose fixedTPM is SET.
        var rc = PublicAreaChecks.Check(template, parentFixedTpm: true, sensitive.Data.Size);
        if (rc.IsError) return rc.ForParameter(2);
        if (!tpm.Objects.HasFreeSlot) return TpmRc.ObjectMemory;

        uint hierarchy = input.PrimaryHandle;
        rc = PrimaryKeyDerivation.Derive(tpm.Hierarchy.GetSeed(hierarchy), template, sensitive.UserAuth.Span, sensitive.Data.Span,
            out var pub, out var keySensitive);
        if (rc.IsError) return rc.ForParameter(2);

        var parentName = KeyObject.HandleName(hierarchy);
        var key = new KeyObject(pub, keySensitive, hierarchy, parentName);
        output.ObjectHandle = tpm.Objects.AddKey(key)!.Value;
        output.OutPublic.PublicArea = pub;
        output.Name = Tpm2bName.From(key.Name);
        Creation.Describe(tpm, f.Locality, pub.NameAlg, in input.CreationPCR, TpmAlgId.Null, parentName, parentName, in input.OutsideInfo,
            ref output.CreationData.CreationData, ref output.CreationHash);
        output.CreationTicket = Creation.Ticket(tpm, hierarchy, key.Name, output.CreationHash.Span);
        return TpmRc.Success;
    }
}
