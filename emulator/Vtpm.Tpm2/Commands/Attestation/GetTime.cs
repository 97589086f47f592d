using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Attestation;

/// <summary>
/// TPM 2.0 Part 3 §18.7 TPM2_GetTime: signs the current time and clock (TPMS_TIME_ATTEST_INFO), authorized by the
/// endorsement hierarchy (privacy). Response codes: TPM_RC_KEY (not a signing key, handle 2), TPM_RC_SCHEME (parameter 2).
/// </summary>
public static class GetTime
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in GetTimeIn input, ref GetTimeOut output)
    {
        var rc = Attest.Signer(tpm, input.SignHandle, 2, input.InScheme, 2, out var key, out var scheme, out var hash);
        if (rc.IsError) return rc;
        var attest = Attest.Header(tpm, TpmSt.AttestTime, key, input.QualifyingData);
        attest.Attested.Time.Time = tpm.Clock.TimeInfo;
        attest.Attested.Time.FirmwareVersion = attest.FirmwareVersion;
        Attest.Sign(key, scheme, hash, attest, ref output.TimeInfo, ref output.Signature);
        return TpmRc.Success;
    }
}
