using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// What the dispatcher holds of one command while it runs: the validated handles, a reader over the (decrypted)
/// parameter area — which the command's generated In unmarshals, parameter numbers and all — and the writer its
/// generated Out is marshalled into. A typed handler also reads the locality and the sessions that authorized each
/// handle from it.
/// </summary>
public ref struct CommandFrame
{
    public TpmCc Code;
    public byte Locality;
    public ReadOnlySpan<uint> Handles;
    public TpmReader Parameters;
    public TpmWriter Response;

    /// <summary>The response handle of a command with <see cref="CommandAttributes.ResponseHandle"/> (from its Out).</summary>
    public uint ResponseHandle;

    /// <summary>Session handles that authorized each auth handle, in handle order (password = TPM_RS_PW).</summary>
    public ReadOnlySpan<uint> AuthSessions;
}
