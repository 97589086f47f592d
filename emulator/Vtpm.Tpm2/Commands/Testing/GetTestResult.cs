using System.Text;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Testing;

/// <summary>
/// TPM 2.0 Part 3 §10.4 TPM2_GetTestResult (allowed in failure mode): outData carries the reason for a
/// failure (vendor-specific text, at most MAX_DIGEST_BUFFER bytes: a TPM2B_MAX_BUFFER), testResult is
/// TPM_RC_FAILURE in failure mode and TPM_RC_SUCCESS otherwise (tests run synchronously, so none is ever in
/// progress). Response codes: none of its own.
/// </summary>
public static class GetTestResult
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in GetTestResultIn input, ref GetTestResultOut output)
    {
        if (tpm.InFailureMode)
        {
            var reason = Encoding.UTF8.GetBytes(tpm.FailureReason ?? "failure");
            output.OutData = Tpm2bMaxBuffer.From(reason.AsSpan(0, Math.Min(reason.Length, Tpm2bMaxBuffer.MaxSize - 2)));
            output.TestResult = TpmRc.Failure.Code;
        }
        else
        {
            output.TestResult = TpmRc.Success.Code;
        }
        return TpmRc.Success;
    }
}
