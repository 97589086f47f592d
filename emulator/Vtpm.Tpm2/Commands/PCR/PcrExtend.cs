using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.PCR;

/// <summary>
/// TPM 2.0 Part 3 §22.2 TPM2_PCR_Extend: extends each digest of the list into the bank of its
/// algorithm; banks not allocated are skipped, TPM_RH_NULL extends nothing. Response codes:
/// TPM_RC_LOCALITY (the PCR may not be extended at this locality), TPM_RC_HASH / TPM_RC_SIZE
/// (digests: unimplemented algorithm, more than HASH_COUNT entries).
/// </summary>
public static class PcrExtend
{
    /// <summary>The digests stay in their checked wire form (TPML_DIGEST_VALUES): nothing is copied.</summary>
    public readonly ref struct In(uint pcrHandle, ReadOnlySpan<byte> digests)
    {
        public uint PcrHandle { get; } = pcrHandle;
        public ReadOnlySpan<byte> Digests { get; } = digests;
    }

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        var rc = f.ReadChecked(PcrSupport.CheckDigestValues, out var digests);
        input = new In(f.Handles[0], digests);
        return rc;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (input.PcrHandle >= PcrSubsystem.PcrCount) return TpmRc.Success;
        if (!PcrSubsystem.IsExtendAllowed((int)input.PcrHandle, f.Locality)) return TpmRc.Locality;
        PcrSupport.ExtendAll(tpm.Pcr, input.PcrHandle, input.Digests);
        return TpmRc.Success;
    }
}
