namespace Vtpm.Tpm2.State;

/// <summary>
/// The three state blobs of an instance, numbered as swtpm's control channel numbers them
/// (PTM_BLOB_TYPE_PERMANENT 1, VOLATILE 2, SAVESTATE 3) so GET/SET_STATEBLOB map one to one.
/// </summary>
public enum StateBlobKind : uint
{
    /// <summary>Seeds, hierarchy auths/policies, NV indices, persistent objects, counters, clock.</summary>
    Permanent = 1,

    /// <summary>Everything in TPM RAM (PCRs, loaded objects, sessions) — written by STORE_VOLATILE and for migration.</summary>
    Volatile = 2,

    /// <summary>What TPM2_Shutdown(STATE) preserves for the next TPM2_Startup(STATE).</summary>
    SaveState = 3,
}
