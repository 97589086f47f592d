namespace Vtpm.Wire.Tpm2.Client;

/// <summary>
/// One entry of a command's authorization area (Part 1 §18.6: TPMS_AUTH_COMMAND): the session handle, the
/// caller's nonce, the session attributes and the HMAC or password. The client writes entries in order, one per
/// handle that needs authorization, then any further sessions (audit, encryption).
/// </summary>
public readonly record struct AuthCommand(uint SessionHandle, byte[] Nonce, byte Attributes, byte[] Hmac)
{
    /// <summary>TPMA_SESSION continueSession: the session stays loaded after the command.</summary>
    public const byte ContinueSession = 0x01;

    /// <summary>A password authorization (TPM_RS_PW, Part 1 §19.6.4): no nonce, continueSession, the password in the hmac field.</summary>
    public static AuthCommand Password(ReadOnlySpan<byte> password) => new((uint)TpmRh.Pw, [], ContinueSession, password.ToArray());

    /// <summary>A password authorization with a UTF-8 password.</summary>
    public static AuthCommand Password(string password) => Password(System.Text.Encoding.UTF8.GetBytes(password));

    /// <summary>The empty password (the default authValue of every hierarchy and of a new object).</summary>
    public static AuthCommand EmptyPassword { get; } = Password([]);
}
