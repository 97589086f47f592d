using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>Authorization sessions (Part 1 §19). Placeholder: no sessions exist yet.</summary>
public sealed class SessionSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    public override string Tag => "SESS";

    public bool Exists(uint handle) => false;

    /// <summary>Checks an HMAC or policy session of the command (session number is 1-based).</summary>
    public TpmRc CheckSession(CommandDescriptor d, ReadOnlySpan<uint> handles, ref AuthSession session, ReadOnlySpan<byte> command, int parametersStart, int sessionNumber, byte locality)
        => TpmRc.ReferenceSession(sessionNumber - 1);

    public void OnCommandFailed(ReadOnlySpan<AuthSession> sessions) { }

    public TpmRc WriteResponseSession(CommandDescriptor d, in AuthSession session, scoped ReadOnlySpan<byte> command, ref TpmWriter w, int paramsOffset, int paramsLength)
        => TpmRc.Failure;
}
