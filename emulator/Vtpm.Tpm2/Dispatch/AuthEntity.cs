using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// What the authorization check needs to know about an entity (Part 1 §19: authValue, authPolicy,
/// whether failures count toward dictionary-attack lockout) and its Name for cpHash/rpHash (Part 1 §16).
/// </summary>
public readonly record struct AuthEntity(
    byte[] AuthValue,
    byte[] AuthPolicy,
    TpmAlgId PolicyAlg,
    bool DaProtected,
    byte[] Name,
    bool PolicyRequired = false,
    bool AuthValueAllowed = true);
