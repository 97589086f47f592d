using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>The authorization role a handle requires (Part 1 §19.2, Part 3 "Auth Role" column).</summary>
public enum AuthRole : byte
{
    None,
    User,
    Admin,
    Dup,
}

/// <summary>One handle of a command's handle area: its interface type and the authorization it needs.</summary>
public readonly record struct HandleSpec(HandleKind Kind, AuthRole Auth = AuthRole.None, bool AllowNull = false);

[Flags]
public enum CommandFlags : uint
{
    None = 0,

    /// <summary>The first command parameter is a TPM2B and may be encrypted by a session (Part 1 §21).</summary>
    DecryptParameter = 1 << 0,

    /// <summary>The first response parameter is a TPM2B and may be encrypted by a session.</summary>
    EncryptParameter = 1 << 1,

    /// <summary>The response carries one handle (e.g. StartAuthSession, HashSequenceStart, ContextLoad).</summary>
    ResponseHandle = 1 << 2,

    /// <summary>The command may not carry any session (ContextSave, ContextLoad, FlushContext, Startup...): TPM_RC_AUTH_CONTEXT.</summary>
    NoSessions = 1 << 3,

    /// <summary>Physical presence may be required (Part 3 §26: PP_Commands list).</summary>
    PhysicalPresence = 1 << 4,
}

/// <summary>
/// A command handler: reads its typed parameters from <see cref="CommandFrame.Parameters"/>, acts on
/// the engine's state, writes its response parameters. Parsing of the header, handles and session
/// area, authorization, parameter encryption, response HMACs and the state commit happen in the
/// dispatcher, never here.
/// </summary>
public delegate TpmRc CommandHandler(Tpm2Engine tpm, ref CommandFrame frame);

/// <summary>An entry of the command table (Part 3's per-command "Command" and "Response" tables).</summary>
public sealed record CommandDescriptor(TpmCc Code, CommandHandler Handler, HandleSpec[] Handles, CommandFlags Flags = CommandFlags.None)
{
    public int AuthHandleCount
    {
        get
        {
            int n = 0;
            foreach (var h in Handles) if (h.Auth != AuthRole.None) n++;
            return n;
        }
    }
}
