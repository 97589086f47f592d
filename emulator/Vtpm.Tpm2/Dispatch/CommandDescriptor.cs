using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>One handle of a command's handle area: the engine's check for its interface type and the authorization it needs.</summary>
public readonly record struct HandleSpec(HandleKind Kind, AuthRole Auth = AuthRole.None, bool AllowNull = false);

/// <summary>
/// A command handler: reads its typed parameters from <see cref="CommandFrame.Parameters"/>, acts on
/// the engine's state, writes its response parameters. Parsing of the header, handles and session
/// area, authorization, parameter encryption, response HMACs and the state commit happen in the
/// dispatcher, never here.
/// </summary>
public delegate TpmRc CommandHandler(Tpm2Engine tpm, ref CommandFrame frame);

/// <summary>
/// A command handler with typed inputs and outputs: the dispatcher has unmarshalled and checked
/// <paramref name="input"/>; the handler acts and fills <paramref name="output"/>. The frame still gives the
/// locality and the sessions that authorized each handle.
/// </summary>
public delegate TpmRc TypedHandler<TIn, TOut>(Tpm2Engine tpm, ref CommandFrame frame, in TIn input, ref TOut output)
    where TIn : struct, ICommandIn
    where TOut : struct, ICommandOut;

/// <summary>
/// An entry of the command table: the catalog's description of the command (Part 3's "Command" and "Response"
/// tables: handles, roles, attributes) bound to its handler.
/// </summary>
public sealed record CommandDescriptor(CommandInfo Info, CommandHandler Handler, HandleSpec[] Handles)
{
    public TpmCc Code => Info.Code;

    public bool Has(CommandAttributes a) => Info.Has(a);

    public int AuthHandleCount => Info.AuthHandleCount;
}
