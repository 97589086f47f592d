using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.7 TPM2_PCR_SetAuthValue: sets the authValue of the authorization group pcrHandle
/// belongs to (PCRs 20–22; reset at TPM Reset and Restart). Response codes: TPM_RC_VALUE (the PCR is in no
/// authorization group; without a handle number, as the reference answers), TPM_RC_SIZE (auth larger than a digest).
/// </summary>
public static class PcrSetAuthValue
{
    public readonly ref struct In(uint pcrHandle, ReadOnlySpan<byte> auth)
    {
        public uint PcrHandle { get; } = pcrHandle;
        public ReadOnlySpan<byte> Auth { get; } = auth;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadSized16(out var auth, TpmHash.MaxDigestSize);
        input = new In(f.Handles[0], auth);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!PcrSubsystem.InAuthGroup((int)input.PcrHandle)) return TpmRc.Value;
        tpm.Pcr.SetAuthValue(input.Auth);
        return TpmRc.Success;
    }
}
