using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Attestation;

/// <summary>
/// TPM 2.0 Part 3 §18.2 TPM2_Certify: signs that an object with this Name and Qualified Name is loaded in this TPM
/// (TPMS_CERTIFY_INFO). The object's authorization has the ADMIN role. Response codes: TPM_RC_KEY (the signing key is
/// not one, handle 2), TPM_RC_SCHEME (parameter 2).
/// </summary>
public static class Certify
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in CertifyIn input, ref CertifyOut output)
    {
        var rc = Attest.Signer(tpm, input.SignHandle, 2, input.InScheme, 2, out var key, out var scheme, out var hash);
        if (rc.IsError) return rc;
        var certified = tpm.Objects.GetKey(input.ObjectHandle)!;
        var attest = Attest.Header(tpm, TpmSt.AttestCertify, key, input.QualifyingData);
        attest.Attested.Certify.Name = Tpm2bName.From(certified.Name);
        attest.Attested.Certify.QualifiedName = Tpm2bName.From(certified.QualifiedName);
        Attest.Sign(key, scheme, hash, attest, ref output.CertifyInfo, ref output.Signature);
        return TpmRc.Success;
    }
}
