using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// The one registry of implemented commands: code → descriptor in a dense array (TPM 2.0 command codes
/// are a compact range from TPM_CC_FIRST). Each Part 3 chapter contributes its entries from its own
/// partial file, so adding a command never means editing a switch.
/// </summary>
public static partial class CommandTable
{
    const uint First = 0x11F;
    const uint Last = 0x1A0;

    static readonly CommandDescriptor?[] Table = Build();

    public static IReadOnlyList<CommandDescriptor> All { get; } = [.. Table.Where(d => d is not null).Cast<CommandDescriptor>()];

    public static CommandDescriptor? Lookup(uint code) =>
        code is >= First and <= Last ? Table[code - First] : null;

    static CommandDescriptor?[] Build()
    {
        var table = new CommandDescriptor?[Last - First + 1];
        var entries = new List<CommandDescriptor>();
        AddStartup(entries);
        AddTesting(entries);
        AddSession(entries);
        AddRandom(entries);
        AddHash(entries);
        AddPcr(entries);
        AddHierarchy(entries);
        AddDictionaryAttack(entries);
        AddContext(entries);
        AddClock(entries);
        AddCapability(entries);
        AddNv(entries);
        AddObject(entries);
        AddSigning(entries);
        AddSymmetric(entries);
        AddAsymmetric(entries);
        AddAttestation(entries);
        foreach (var d in entries)
        {
            uint c = (uint)d.Code;
            if (c < First || c > Last) throw new InvalidOperationException($"command code 0x{c:X} outside the table");
            if (table[c - First] is not null) throw new InvalidOperationException($"{d.Code} registered twice");
            table[c - First] = d;
        }
        return table;
    }

    static partial void AddStartup(List<CommandDescriptor> t);
    static partial void AddTesting(List<CommandDescriptor> t);
    static partial void AddSession(List<CommandDescriptor> t);
    static partial void AddRandom(List<CommandDescriptor> t);
    static partial void AddHash(List<CommandDescriptor> t);
    static partial void AddPcr(List<CommandDescriptor> t);
    static partial void AddHierarchy(List<CommandDescriptor> t);
    static partial void AddDictionaryAttack(List<CommandDescriptor> t);
    static partial void AddContext(List<CommandDescriptor> t);
    static partial void AddClock(List<CommandDescriptor> t);
    static partial void AddCapability(List<CommandDescriptor> t);
    static partial void AddNv(List<CommandDescriptor> t);
    static partial void AddObject(List<CommandDescriptor> t);
    static partial void AddSigning(List<CommandDescriptor> t);
    static partial void AddSymmetric(List<CommandDescriptor> t);
    static partial void AddAsymmetric(List<CommandDescriptor> t);
    static partial void AddAttestation(List<CommandDescriptor> t);

    /// <summary>
    /// Binds a typed handler: the generated <typeparamref name="TIn"/> takes the checked handles and unmarshals
    /// the parameters (a failure carries the parameter number; bytes left over are TPM_RC_SIZE, before the
    /// handler acts); the handler fills <typeparamref name="TOut"/>, which is marshalled as the response.
    /// </summary>
    internal static CommandDescriptor Entry<TIn, TOut>(TypedHandler<TIn, TOut> handler)
        where TIn : struct, ICommandIn
        where TOut : struct, ICommandOut =>
        Entry(default(TIn).CommandCode, (Tpm2Engine tpm, ref CommandFrame f) =>
        {
            TIn input = default;
            input.ReadHandles(f.Handles);
            var rc = input.UnmarshalParameters(ref f.Parameters);
            if (rc.IsError) return rc;
            if (!f.Parameters.AtEnd) return TpmRc.Size;
            TOut output = default;
            rc = handler(tpm, ref f, in input, ref output);
            if (rc.IsError) return rc;
            output.MarshalParameters(ref f.Response);
            f.ResponseHandle = output.ResponseHandle;
            return rc;
        });

    /// <summary>Binds a handler to its command as the catalog describes it (handles, roles, attributes).</summary>
    static CommandDescriptor Entry(TpmCc code, CommandHandler handler)
    {
        var info = CommandCatalog.Get(code);
        return new(info, handler, [.. info.Handles.Select(h => new HandleSpec(HandleKinds.For(h.Type), h.Role, h.AllowNull))]);
    }
}
