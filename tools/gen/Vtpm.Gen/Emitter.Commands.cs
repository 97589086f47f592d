using System.Text;

namespace Vtpm.Gen;

public sealed partial class Emitter
{
    void EmitCommands()
    {
        var commands = _c.All<CommandDef>().OrderBy(c => model.Value(c.Code, c.Origin)).ToList();
        var sb = new StringBuilder($"namespace {Ns};\n");
        foreach (var c in commands)
        {
            EmitCommandIn(sb, c);
            EmitCommandOut(sb, c);
        }
        Write("Commands.g.cs", sb, "System.Diagnostics.CodeAnalysis");
        EmitCommandTable(commands);
        EmitClient(commands);
    }

    void EmitCommandIn(StringBuilder sb, CommandDef c)
    {
        string name = Naming.Command(c.Name) + "In";
        sb.Append('\n').Append(Doc($"{c.Name} (Part 3 {c.Section}): the handles and parameters of the command", "")).Append('\n');
        sb.Append($"public partial struct {name} : ICommandIn\n{{\n");
        sb.Append($"    /// <inheritdoc/>\n    public readonly TpmCc CommandCode => TpmCc.{Naming.Command(c.Name)};\n");
        sb.Append($"\n    /// <inheritdoc/>\n    public static int HandleCount => {c.Handles.Count};\n\n");
        foreach (var h in c.Handles)
            sb.Append($"    /// <summary>Handle {h.Field.Name} ({h.Field.Type}{(h.Field.Plus ? "+" : "")}{(h.Auth ? $", authorized: {h.Role.ToString().ToUpperInvariant()}" : "")}).</summary>\n    public uint {Naming.Member(h.Field.Name)};\n");
        foreach (var f in c.In) sb.Append($"    /// <summary>Parameter {f.Name} ({f.Type}{(f.Plus ? "+" : "")}).</summary>\n    public {FieldType(f)} {Naming.Member(f.Name)};\n");

        sb.Append("\n    /// <summary>The handle area in order.</summary>\n    public readonly void WriteHandles(Span<uint> handles)\n    {\n");
        for (int k = 0; k < c.Handles.Count; k++) sb.Append($"        handles[{k}] = {Naming.Member(c.Handles[k].Field.Name)};\n");
        sb.Append("    }\n");
        sb.Append("\n    /// <summary>Takes the handle area (already checked by the dispatcher).</summary>\n    public void ReadHandles(ReadOnlySpan<uint> handles)\n    {\n");
        for (int k = 0; k < c.Handles.Count; k++) sb.Append($"        {Naming.Member(c.Handles[k].Field.Name)} = handles[{k}];\n");
        sb.Append("    }\n");
        EmitParameterMethods(sb, c.In);
        sb.Append("}\n");
    }

    void EmitCommandOut(StringBuilder sb, CommandDef c)
    {
        string name = Naming.Command(c.Name) + "Out";
        sb.Append('\n').Append(Doc($"{c.Name} (Part 3 {c.Section}): the response handle and parameters", "")).Append('\n');
        sb.Append($"public partial struct {name} : ICommandOut\n{{\n");
        if (c.ResponseHandle is { } rh) sb.Append($"    /// <summary>Response handle {rh.Name} ({rh.Type}).</summary>\n    public uint {Naming.Member(rh.Name)};\n");
        string rhMember = c.ResponseHandle is { } r2 ? Naming.Member(r2.Name) : "";
        sb.Append(rhMember.Length > 0
            ? $"\n    uint ICommandOut.ResponseHandle\n    {{\n        readonly get => {rhMember};\n        set => {rhMember} = value;\n    }}\n"
            : "\n    uint ICommandOut.ResponseHandle\n    {\n        readonly get => 0;\n        set { }\n    }\n");
        foreach (var f in c.Out) sb.Append($"    /// <summary>Parameter {f.Name} ({f.Type}).</summary>\n    public {FieldType(f)} {Naming.Member(f.Name)};\n");
        sb.Append($"\n    /// <inheritdoc/>\n    public static bool HasResponseHandle => {(c.ResponseHandle is not null ? "true" : "false")};\n");
        EmitParameterMethods(sb, c.Out);
        sb.Append("}\n");
    }

    void EmitParameterMethods(StringBuilder sb, List<Field> fields)
    {
        _tmp = 0;
        sb.Append("\n    /// <summary>Unmarshals and checks the parameters in order; a failure carries the parameter number (TPM_RC_P + n).</summary>\n");
        sb.Append("    public TpmRc UnmarshalParameters(ref TpmReader r)\n    {\n");
        EmitReads(sb, fields, "", "        ", (k, rc) => $"return ({rc}).ForParameter({k + 1});", ownerHasFlag: false);
        sb.Append("        return TpmRc.Success;\n    }\n");
        sb.Append("\n    /// <summary>Marshals the parameters in order.</summary>\n    public readonly void MarshalParameters(ref TpmWriter w)\n    {\n");
        EmitWrites(sb, fields, "", "        ");
        sb.Append("    }\n");
    }

    void EmitClient(List<CommandDef> commands)
    {
        var sb = new StringBuilder($"namespace {Ns}.Client;\n\npublic sealed partial class Tpm2Client\n{{\n");
        foreach (var c in commands)
        {
            string name = Naming.Command(c.Name);
            var args = new List<string>();
            var sets = new List<string>();
            foreach (var h in c.Handles)
            {
                args.Add($"uint {Naming.Local(h.Field.Name)}");
                sets.Add($"{Naming.Member(h.Field.Name)} = {Naming.Local(h.Field.Name)}");
            }
            foreach (var f in c.In)
            {
                string t = FieldType(f);
                args.Add(model.IsScalar(f.Type) && f.Array == ArrayKind.None ? $"{t} {Naming.Local(f.Name)}" : $"in {t} {Naming.Local(f.Name)}");
                sets.Add($"{Naming.Member(f.Name)} = {Naming.Local(f.Name)}");
            }
            args.Add($"out {name}Out output");
            args.Add("ReadOnlySpan<AuthCommand> authorizations = default");
            sb.Append($"\n    /// <summary>{c.Name} (Part 3 {c.Section}).</summary>\n");
            sb.Append($"    public TpmRc {name}({string.Join(", ", args)})\n    {{\n");
            sb.Append($"        var input = new {name}In{(sets.Count > 0 ? " { " + string.Join(", ", sets) + " }" : "()")};\n");
            sb.Append("        return Execute(in input, out output, authorizations);\n    }\n");
        }
        sb.Append("}\n");
        Write("Tpm2Client.g.cs", sb);
    }

    void EmitCommandTable(List<CommandDef> commands)
    {
        var handleTypes = commands.SelectMany(c => c.Handles.Select(h => h.Field.Type)).Distinct().Order(StringComparer.Ordinal).ToList();
        var sb = new StringBuilder($"namespace {Ns};\n\n");
        sb.Append("/// <summary>The interface types that appear in command handle areas.</summary>\npublic enum HandleType : byte\n{\n");
        foreach (var t in handleTypes) sb.Append($"    /// <summary>{t}.</summary>\n    {Naming.Type(t)},\n");
        sb.Append("}\n\n");
        sb.Append("/// <summary>Every TPM 2.0 command of Part 3 as the catalog describes it, by command code.</summary>\npublic static partial class CommandCatalog\n{\n");
        sb.Append("    /// <summary>All commands, in code order.</summary>\n    public static IReadOnlyList<CommandInfo> All { get; } =\n    [\n");
        foreach (var c in commands)
        {
            var attrs = new List<string>();
            if (c.Attributes.Contains("nv")) attrs.Add("CommandAttributes.Nv");
            if (c.Attributes.Contains("extensive")) attrs.Add("CommandAttributes.Extensive");
            if (c.Attributes.Contains("flushed")) attrs.Add("CommandAttributes.Flushed");
            if (c.Attributes.Contains("nosessions")) attrs.Add("CommandAttributes.NoSessions");
            if (c.Attributes.Contains("pp")) attrs.Add("CommandAttributes.PhysicalPresence");
            if (c.In.Count > 0 && IsSized(c.In[0].Type)) attrs.Add("CommandAttributes.DecryptParameter");
            if (c.Out.Count > 0 && IsSized(c.Out[0].Type)) attrs.Add("CommandAttributes.EncryptParameter");
            if (c.ResponseHandle is not null) attrs.Add("CommandAttributes.ResponseHandle");
            string handles = string.Join(", ", c.Handles.Select(h =>
                $"new(\"{h.Field.Name}\", HandleType.{Naming.Type(h.Field.Type)}, AuthRole.{h.Role}, {(h.Field.Plus ? "true" : "false")})"));
            sb.Append($"        new(TpmCc.{Naming.Command(c.Name)}, \"{c.Name}\", \"{c.Section}\", {(attrs.Count > 0 ? string.Join(" | ", attrs) : "CommandAttributes.None")}, [{handles}]),\n");
        }
        sb.Append("    ];\n}\n");
        Write("CommandCatalog.g.cs", sb);
    }
}
