using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.15 TPM2_NV_ChangeAuth: sets the index's authValue; ADMIN role, so only a policy
/// session authorizes it (Part 1 §19.7). Response codes: TPM_RC_SIZE (newAuth longer than the nameAlg
/// digest, parameter 1), TPM_RC_AUTH_TYPE (not a policy session: the dispatcher's role check; swtpm answers 0x124 to a password).
/// </summary>
public static class NvChangeAuth
{
    public readonly record struct In(byte[] NewAuth);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var auth, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        input = new In(Authorization.TrimTrailingZeros(auth).ToArray());
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        if (!tpm.Nv.TryGetAccessible(f.Handles[0], out var index)) return TpmRc.Handle.ForHandle(1);
        if (input.NewAuth.Length > TpmHash.DigestSize(index.Public.NameAlg)) return TpmRc.Size.ForParameter(1);
        index.AuthValue = input.NewAuth;
        tpm.Nv.Changed();
        return TpmRc.Success;
    }
}
