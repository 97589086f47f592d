using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>Configuration of a TPM 2.0 instance, fixed when the instance is created.</summary>
public sealed class Tpm2Options
{
    /// <summary>PCR banks active on a new instance (TPM2_PCR_Allocate changes them later). SHA-256 and SHA-1, as swtpm's default.</summary>
    public IReadOnlyList<TpmAlgId> DefaultPcrBanks { get; init; } = [TpmAlgId.Sha1, TpmAlgId.Sha256];

    /// <summary>TPM_PT_MAX_COMMAND_SIZE / MAX_RESPONSE_SIZE: 4096 like swtpm (transports may lower it).</summary>
    public int MaxCommandSize { get; init; } = 4096;

    public int MaxResponseSize { get; init; } = 4096;
}
