using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>Dictionary-attack protection (Part 1 §19.8). Placeholder: never locks out.</summary>
public sealed class DictionaryAttackSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "DA  ";

    /// <summary>TPM_RC_LOCKOUT if authorization of this entity is not allowed now.</summary>
    public TpmRc CheckLockout(uint handle, in AuthEntity entity) => TpmRc.Success;

    /// <summary>Records a failed authorization; returns TPM_RC_AUTH_FAIL (DA-protected) or TPM_RC_BAD_AUTH.</summary>
    public TpmRc RecordFailure(uint handle, in AuthEntity entity) => entity.DaProtected ? TpmRc.AuthFail : TpmRc.BadAuth;
}
