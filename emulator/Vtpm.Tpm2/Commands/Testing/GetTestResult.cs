using System.Text;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.4 TPM2_GetTestResult (allowed in failure mode): outData carries the reason for a
/// failure (vendor-specific text, at most MAX_DIGEST_BUFFER bytes), testResult is TPM_RC_FAILURE in failure
/// mode and TPM_RC_SUCCESS otherwise (tests run synchronously, so none is ever in progress).
/// Response codes: none of its own.
/// </summary>
public static class GetTestResult
{
    const int MaxBuffer = 1024;

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        if (tpm.InFailureMode)
        {
            var reason = Encoding.UTF8.GetBytes(tpm.FailureReason ?? "failure");
            f.Response.WriteSized16(reason.AsSpan(0, Math.Min(reason.Length, MaxBuffer)));
            f.Response.WriteUInt32(TpmRc.Failure.Code);
        }
        else
        {
            f.Response.WriteUInt16(0);
            f.Response.WriteUInt32(TpmRc.Success.Code);
        }
        return TpmRc.Success;
    }
}
