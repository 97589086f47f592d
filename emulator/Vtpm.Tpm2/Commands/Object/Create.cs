using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// TPM 2.0 Part 3 §12.1 TPM2_Create: creates an ordinary object under a loaded storage key and returns it wrapped
/// for that parent (Part 1 §22: its sensitive area encrypted and bound to its Name), without loading it. Response
/// codes: TPM_RC_TYPE (the parent is not a storage key, handle 1), TPM_RC_SIZE (userAuth longer than the nameAlg digest,
/// parameter 1), the template checks of TPM2_CreatePrimary (parameter 2), fixedTPM under a parent that is not.
/// </summary>
public static class Create
{
    const int KeySeedBytes = 64;

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in CreateIn input, ref CreateOut output)
    {
        var rc = StorageParent.Get(tpm, input.ParentHandle, out var parent);
        if (rc.IsError) return rc;
        ref readonly var template = ref input.InPublic.PublicArea;
        ref readonly var sensitive = ref input.InSensitive.Sensitive;
        if (sensitive.UserAuth.Size > TpmHash.DigestSize(template.NameAlg)) return TpmRc.Size.ForParameter(1);
        rc = PublicAreaChecks.Check(template, parent.Has(TpmaObject.FixedTPM), sensitive.Data.Size);
        if (rc.IsError) return rc.ForParameter(2);

        // An ordinary object's key comes from the DRBG: a fresh key for the same stream construction as primaries.
        Span<byte> entropy = stackalloc byte[KeySeedBytes];
        tpm.Random.Generate(entropy);
        using (var stream = new KdfStream(template.NameAlg, entropy, "Ordinary Object", []))
        {
            rc = PrimaryKeyDerivation.Generate(stream, template, sensitive.UserAuth.Span, sensitive.Data.Span, out output.OutPublic.PublicArea, out var keySensitive);
            if (rc.IsError) return rc.ForParameter(2);
            var name = KeyObject.NameOf(output.OutPublic.PublicArea);
            output.OutPrivate = StorageProtection.Protect(parent.Public.NameAlg, parent.Sensitive.SeedValue.Span, StorageParent.SymmetricKeyBits(parent),
                name, keySensitive);
            Creation.Describe(tpm, f.Locality, template.NameAlg, in input.CreationPCR, parent.Public.NameAlg, parent.Name, parent.QualifiedName,
                in input.OutsideInfo, ref output.CreationData.CreationData, ref output.CreationHash);
            output.CreationTicket = Creation.Ticket(tpm, parent.Hierarchy, name, output.CreationHash.Span);
        }
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(entropy);
        return TpmRc.Success;
    }
}
