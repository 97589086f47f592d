using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Hierarchy;

/// <summary>
/// TPM 2.0 Part 3 §24.6 TPM2_Clear: removes the owner's state. A new SPS, shProof and ehProof;
/// ownerAuth, endorsementAuth, lockoutAuth and their policies emptied; shEnable and ehEnable SET;
/// storage and endorsement objects flushed; NV indices without TPMA_NV_PLATFORMCREATE deleted;
/// dictionary-attack parameters back to their defaults with failedTries 0; Clock, resetCount and
/// restartCount zeroed and safe SET. Response codes: TPM_RC_DISABLED (disableClear is SET).
/// </summary>
public static class Clear
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in ClearIn input, ref ClearOut output)
    {
        if (tpm.Hierarchy.DisableClear) return TpmRc.Disabled;
        tpm.Nv.OnClear();
        tpm.DictionaryAttack.OnClear();
        tpm.Clock.OnClear();
        tpm.Hierarchy.Clear();
        return TpmRc.Success;
    }
}
