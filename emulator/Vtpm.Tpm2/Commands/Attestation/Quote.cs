using Vtpm.Tpm2.Commands.Object;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Attestation;

/// <summary>
/// TPM 2.0 Part 3 §18.4 TPM2_Quote: signs the digest of the selected PCRs (TPMS_QUOTE_INFO), hashed with the signing
/// scheme's hash. Response codes: TPM_RC_KEY (not a signing key, handle 1), TPM_RC_SCHEME (parameter 2).
/// </summary>
public static class Quote
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in QuoteIn input, ref QuoteOut output)
    {
        var rc = Attest.Signer(tpm, input.SignHandle, 1, input.InScheme, 2, out var key, out var scheme, out var hash);
        if (rc.IsError) return rc;
        var attest = Attest.Header(tpm, TpmSt.AttestQuote, key, input.QualifyingData);
        // An unsigned quote still needs a digest: SHA-256 then.
        var digestAlg = key is null ? TpmAlgId.Sha256 : hash;
        attest.Attested.Quote.PcrDigest = Tpm2bDigest.From(PcrSelectionDigest.Compute(tpm, input.PCRselect, digestAlg, ref attest.Attested.Quote.PcrSelect));
        Attest.Sign(key, scheme, hash, attest, ref output.Quoted, ref output.Signature);
        return TpmRc.Success;
    }
}
