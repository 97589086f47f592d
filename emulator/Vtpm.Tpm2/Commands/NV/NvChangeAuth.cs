using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.15 TPM2_NV_ChangeAuth: sets the index's authValue; ADMIN role, so only a policy
/// session authorizes it (Part 1 §19.7). Response codes: TPM_RC_SIZE (newAuth larger than TPM2B_AUTH, from the
/// generated unmarshal; newAuth without its trailing zeros longer than the nameAlg digest; parameter 1),
/// TPM_RC_AUTH_TYPE (not a policy session: the dispatcher's role check; swtpm answers 0x124 to a password).
/// </summary>
public static class NvChangeAuth
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvChangeAuthIn input, ref NvChangeAuthOut output)
    {
        if (!tpm.Nv.TryGetAccessible(input.NvIndex, out var index)) return TpmRc.Handle.ForHandle(1);
        // Part 3 §31.15 (detailed actions): trailing zeros are removed before the size check and are not stored.
        var newAuth = Authorization.TrimTrailingZeros(input.NewAuth.Span);
        if (newAuth.Length > TpmHash.DigestSize(index.Public.NameAlg)) return TpmRc.Size.ForParameter(1);
        index.AuthValue = newAuth.ToArray();
        tpm.Nv.Changed();
        return TpmRc.Success;
    }
}
