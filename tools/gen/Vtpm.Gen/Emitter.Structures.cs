using System.Text;

namespace Vtpm.Gen;

public sealed partial class Emitter
{
    int _tmp;

    string Tmp(string stem) => $"{stem}{_tmp++}";

    /// <summary>The C# type of a field (arrays inline at their largest size).</summary>
    string FieldType(Field f) => f.Array switch
    {
        ArrayKind.Counted => FixedArray(model.Capacity(f), Cs(f.Type)),
        ArrayKind.Fixed => FixedArray(model.Value(f.ArrayArg!, f.Origin), Cs(f.Type)),
        _ => Cs(f.Type),
    };

    /// <summary>Whether a field is the size of a sized byte buffer or the count of a list (bounds errors are TPM_RC_SIZE).</summary>
    static bool IsCountOf(Field f, List<Field> fields) => f.Name is "size" or "count" || fields.Any(x => x.ArrayArg == f.Name);

    /// <summary>A TPM2B: a structure whose first field is a UINT16 named size (so a session may encrypt it).</summary>
    public bool IsSized(string type) => _c.ByName.GetValueOrDefault(type) is StructDef s && s.Fields.Count > 0 && s.Fields[0].Name == "size"
        && model.IsScalar(s.Fields[0].Type) && model.BaseOf(s.Fields[0].Type).Bytes == 2;

    /// <summary>A sized byte buffer: exactly <c>size UINT16</c> then <c>BYTE[size]</c>.</summary>
    bool IsByteBuffer(StructDef s) => s.Fields.Count == 2 && s.Fields[0].Name == "size" && !s.Fields[0].IsSizeOf
        && s.Fields[1].Array == ArrayKind.Counted && s.Fields[1].ArrayArg == "size" && model.IsScalar(s.Fields[1].Type) && model.BaseOf(s.Fields[1].Type).Bytes == 1;

    void EmitStructures()
    {
        var byFile = new SortedDictionary<string, StringBuilder>(StringComparer.Ordinal);
        foreach (var d in _c.Defs)
        {
            if (d is not (StructDef or UnionDef)) continue;
            string file = Path.GetFileNameWithoutExtension(d.Origin.File);
            if (!byFile.TryGetValue(file, out var sb)) byFile[file] = sb = new StringBuilder($"namespace {Ns};\n");
            if (d is StructDef s) EmitStruct(sb, s);
            else EmitUnion(sb, (UnionDef)d);
        }
        foreach (var (file, sb) in byFile) Write(Naming.Type(file.Replace('-', '_')) + ".g.cs", sb, "System.Diagnostics.CodeAnalysis");
    }

    void EmitStruct(StringBuilder sb, StructDef s)
    {
        string name = Naming.Type(s.Name);
        bool flag = model.HasNullFlag(s.Name);
        sb.Append('\n').Append(Doc($"TPM 2.0 Part 2 {s.Name}", s.Section)).Append('\n');
        sb.Append($"public partial struct {name}\n{{\n");
        foreach (var f in s.Fields) sb.Append($"    /// <summary>{f.Name}.</summary>\n    public {FieldType(f)} {Naming.Member(f.Name)};\n");
        sb.Append($"\n    /// <summary>The largest marshalled size.</summary>\n    public const int MaxSize = {model.MaxSize(s.Name)};\n");
        if (IsByteBuffer(s)) EmitByteBufferHelpers(sb, s, name);

        sb.Append($"\n    /// <summary>Unmarshals and checks one {s.Name}; the result code carries no parameter number.</summary>\n");
        sb.Append($"    public static TpmRc Unmarshal(ref TpmReader r, out {name} v{(flag ? ", bool allowNull = false" : "")})\n    {{\n");
        sb.Append("        v = default;\n");
        _tmp = 0;
        EmitReads(sb, s.Fields, "v.", "        ", (_, rc) => $"return {rc};", flag);
        sb.Append("        return TpmRc.Success;\n    }\n");

        sb.Append($"\n    /// <summary>Marshals this {s.Name}.</summary>\n");
        sb.Append("    public readonly void Marshal(ref TpmWriter w)\n    {\n");
        EmitWrites(sb, s.Fields, "", "        ");
        sb.Append("    }\n}\n");
    }

    void EmitByteBufferHelpers(StringBuilder sb, StructDef s, string name)
    {
        string size = Naming.Member(s.Fields[0].Name), buf = Naming.Member(s.Fields[1].Name);
        sb.Append($"\n    /// <summary>The bytes in use.</summary>\n    [UnscopedRef]\n    public readonly ReadOnlySpan<byte> Span => ((ReadOnlySpan<byte>){buf})[..System.Math.Min((int){size}, MaxSize - 2)];\n");
        sb.Append($"\n    /// <summary>A {s.Name} holding <paramref name=\"bytes\"/> (at most MaxSize − 2 of them).</summary>\n");
        sb.Append($"    public static {name} From(ReadOnlySpan<byte> bytes)\n    {{\n");
        sb.Append($"        if (bytes.Length > MaxSize - 2) throw new ArgumentException($\"{s.Name} holds at most {{MaxSize - 2}} bytes, not {{bytes.Length}}\", nameof(bytes));\n");
        sb.Append($"        var v = new {name} {{ {size} = (ushort)bytes.Length }};\n        bytes.CopyTo(v.{buf});\n        return v;\n    }}\n");
        sb.Append($"\n    /// <summary>A copy of the bytes in use.</summary>\n    public readonly byte[] ToArray() => Span.ToArray();\n");
    }

    void EmitUnion(StringBuilder sb, UnionDef u)
    {
        string name = Naming.Type(u.Name);
        sb.Append('\n').Append(Doc($"TPM 2.0 Part 2 {u.Name} (one field per arm; the selector says which is in use)", u.Section)).Append('\n');
        sb.Append($"public partial struct {name}\n{{\n");
        foreach (var a in u.Arms.Where(a => a.Field is not null))
            sb.Append($"    /// <summary>{a.FieldName}: the arm of {a.Selector}.</summary>\n    public {FieldType(a.Field!)} {Naming.Member(a.FieldName)};\n");
        sb.Append($"\n    /// <summary>The largest marshalled size (the largest arm).</summary>\n    public const int MaxSize = {model.MaxSize(u.Name)};\n");

        sb.Append($"\n    /// <summary>Unmarshals the arm <paramref name=\"selector\"/> names; TPM_RC_SELECTOR for a selector without an arm.</summary>\n");
        sb.Append($"    public static TpmRc Unmarshal(ref TpmReader r, ulong selector, out {name} v)\n    {{\n        v = default;\n");
        _tmp = 0;
        sb.Append("        switch (selector)\n        {\n");
        foreach (var a in u.Arms)
        {
            sb.Append($"            case {Hex(model.Value(a.Selector, u.Origin))}: // {a.Selector}\n");
            if (a.Field is not null)
            {
                sb.Append("            {\n");
                EmitRead(sb, a.Field with { Name = a.FieldName }, [], "v.", "                ", rc => $"return {rc};", ownerHasFlag: false);
                sb.Append("                return TpmRc.Success;\n            }\n");
            }
            else sb.Append("                return TpmRc.Success;\n");
        }
        sb.Append("            default:\n                return TpmRc.Selector;\n        }\n    }\n");

        sb.Append($"\n    /// <summary>Marshals the arm <paramref name=\"selector\"/> names (nothing for an empty or unknown arm).</summary>\n");
        sb.Append("    public readonly void Marshal(ref TpmWriter w, ulong selector)\n    {\n");
        if (u.Arms.All(a => a.Field is null))
        {
            sb.Append("        // Every arm is empty.\n    }\n}\n");
            return;
        }
        sb.Append("        switch (selector)\n        {\n");
        foreach (var a in u.Arms.Where(a => a.Field is not null))
        {
            sb.Append($"            case {Hex(model.Value(a.Selector, u.Origin))}: // {a.Selector}\n");
            EmitWrite(sb, a.Field! with { Name = a.FieldName }, [], "", "                ");
            sb.Append("                break;\n");
        }
        sb.Append("        }\n    }\n}\n");
    }

    // ---- reading ----

    /// <summary>
    /// Reads fields in order into <paramref name="obj"/> (a prefix such as "v." or "this."); on failure runs
    /// <paramref name="fail"/>(field index, rc expression), a statement that leaves the method.
    /// </summary>
    void EmitReads(StringBuilder sb, List<Field> fields, string obj, string indent, Func<int, string, string> fail, bool ownerHasFlag)
    {
        for (int k = 0; k < fields.Count; k++)
        {
            var f = fields[k];
            int index = k;
            if (f.IsSizeOf && k + 1 < fields.Count)
            {
                EmitSizedRead(sb, f, fields[k + 1], fields, obj, indent, rc => fail(index, rc), ownerHasFlag);
                k++;
                continue;
            }
            EmitRead(sb, f, fields, obj, indent, rc => fail(index, rc), ownerHasFlag);
        }
    }

    string NullArg(Field f, bool ownerHasFlag)
    {
        if (!model.HasNullFlag(f.Type)) return "";
        if (f.Option("null") == "always") return ", true";
        return f.Plus ? (ownerHasFlag ? ", allowNull" : ", true") : ", false";
    }

    /// <summary>
    /// A size= structure (TPM2B_PUBLIC ...): the inner structure is read from the command as it stands and must have
    /// used exactly the size given — more or fewer octets are TPM_RC_SIZE, as the reference and swtpm answer; only a
    /// structure cut short by the end of the whole buffer is TPM_RC_INSUFFICIENT.
    /// </summary>
    void EmitSizedRead(StringBuilder sb, Field size, Field inner, List<Field> fields, string obj, string indent, Func<string, string> fail, bool ownerHasFlag)
    {
        string n = Tmp("size"), start = Tmp("start");
        sb.Append($"{indent}if (!r.TryReadUInt16(out ushort {n})) {fail("TpmRc.Insufficient")}\n");
        sb.Append($"{indent}{obj}{Naming.Member(size.Name)} = {n};\n");
        if (size.Option("optional") is not null) sb.Append($"{indent}if ({n} != 0)\n{indent}{{\n");
        else sb.Append($"{indent}if ({n} == 0) {fail(size.Option("error") is { } e ? Rc(e) : "TpmRc.Size")}\n{indent}{{\n");
        string i2 = indent + "    ";
        sb.Append($"{i2}int {start} = r.Position;\n");
        string rc = Tmp("rc");
        sb.Append($"{i2}var {rc} = {Naming.Type(inner.Type)}.Unmarshal(ref r, out {obj}{Naming.Member(inner.Name)}{NullArg(inner, ownerHasFlag)});\n");
        sb.Append($"{i2}if ({rc}.IsError) {fail(rc)}\n");
        sb.Append($"{i2}if (r.Position - {start} != {n}) {fail("TpmRc.Size")}\n");
        sb.Append($"{indent}}}\n");
    }

    void EmitRead(StringBuilder sb, Field f, List<Field> fields, string obj, string indent, Func<string, string> fail, bool ownerHasFlag)
    {
        string target = obj + Naming.Member(f.Name);
        switch (f.Array)
        {
            case ArrayKind.Counted:
            case ArrayKind.Fixed:
            {
                string count = f.Array == ArrayKind.Counted ? $"(int){obj}{Naming.Member(f.ArrayArg!)}" : model.Value(f.ArrayArg!, f.Origin).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (model.IsScalar(f.Type) && model.BaseOf(f.Type).Bytes == 1 && model.KindOf(f.Type) != TypeKind.Interface)
                {
                    string b = Tmp("bytes");
                    sb.Append($"{indent}if (!r.TryReadBytes({count}, out var {b})) {fail("TpmRc.Insufficient")}\n");
                    sb.Append($"{indent}{b}.CopyTo({target});\n");
                    return;
                }
                string i = Tmp("i");
                sb.Append($"{indent}for (int {i} = 0; {i} < {count}; {i}++)\n{indent}{{\n");
                EmitElementRead(sb, f, $"{target}[{i}]", indent + "    ", fail, ownerHasFlag);
                sb.Append($"{indent}}}\n");
                return;
            }
            default:
                EmitElementRead(sb, f, target, indent, fail, ownerHasFlag, fields, obj);
                return;
        }
    }

    /// <summary>Reads one value of the field's type into <paramref name="target"/>, with the field's checks.</summary>
    void EmitElementRead(StringBuilder sb, Field f, string target, string indent, Func<string, string> fail, bool ownerHasFlag,
        List<Field>? fields = null, string obj = "")
    {
        var kind = model.KindOf(f.Type);
        switch (kind)
        {
            case TypeKind.Struct:
            {
                string rc = Tmp("rc");
                sb.Append($"{indent}var {rc} = {Naming.Type(f.Type)}.Unmarshal(ref r, out {target}{NullArg(f, ownerHasFlag)});\n");
                sb.Append($"{indent}if ({rc}.IsError) {fail(rc)}\n");
                return;
            }
            case TypeKind.Union:
            {
                string rc = Tmp("rc");
                sb.Append($"{indent}var {rc} = {Naming.Type(f.Type)}.Unmarshal(ref r, (ulong){obj}{Naming.Member(f.Selector!)}, out {target});\n");
                sb.Append($"{indent}if ({rc}.IsError) {fail(rc)}\n");
                return;
            }
        }
        var bt = model.BaseOf(f.Type);
        string raw = UnsignedOf(bt.Bytes), t = Tmp("t");
        sb.Append($"{indent}if (!r.{ReadMethod(bt.Bytes)}(out {raw} {t})) {fail("TpmRc.Insufficient")}\n");
        sb.Append($"{indent}{target} = ({Cs(f.Type)}){t};\n");
        if (kind == TypeKind.Interface)
        {
            string rc = Tmp("rc");
            string allow = f.Option("null") == "always" ? "true" : f.Plus ? (ownerHasFlag ? "allowNull" : "true") : "false";
            sb.Append($"{indent}var {rc} = {Naming.Type(f.Type)}.Check({target}, {allow});\n");
            string onError = f.Option("error") is { } e ? Rc(e) : rc;
            sb.Append($"{indent}if ({rc}.IsError) {fail(onError)}\n");
        }
        if (kind == TypeKind.Enum && _c.ByName[f.Type] is EnumDef { Error: { } enumError } checkedEnum)
        {
            // A constant table with a "#TPM_RC_x" line (TPM_SU, TPM_SE, TPM_CAP...): only its own constants come in.
            var values = checkedEnum.Members.Select(m => model.Value(m.Name, m.Origin)).Distinct().Order().Select(Hex);
            sb.Append($"{indent}if ({t} is not ({string.Join(" or ", values)})) {fail(f.Option("error") is { } ee ? Rc(ee) : Rc(enumError))}\n");
        }
        if (kind == TypeKind.Bits && _c.ByName[f.Type] is BitsDef b && !b.ReservedIgnored && ReservedMask(b) != 0)
            sb.Append($"{indent}if (({t} & {Hex(ReservedMask(b))}) != 0) {fail("TpmRc.ReservedBits")}\n");
        bool isCount = fields is not null && IsCountOf(f, fields);
        string boundError = f.Option("error") is { } err ? Rc(err) : isCount ? "TpmRc.Size" : "TpmRc.Value";
        if (f.Option("min") is { } min) sb.Append($"{indent}if ({t} < {Hex(model.Value(min, f.Origin))}) {fail(boundError)}\n");
        if (f.Option("max") is { } max) sb.Append($"{indent}if ({t} > {Hex(model.Value(max, f.Origin))}) {fail(boundError)}\n");
        if (f.Option("tag") is { } tags)
        {
            var tests = tags.Split(',').Select(x => $"{t} != {Hex(model.Value(x, f.Origin))}");
            sb.Append($"{indent}if ({string.Join(" && ", tests)}) {fail(f.Option("error") is { } te ? Rc(te) : "TpmRc.Tag")}\n");
        }
    }

    // ---- writing ----

    void EmitWrites(StringBuilder sb, List<Field> fields, string obj, string indent)
    {
        for (int k = 0; k < fields.Count; k++)
        {
            var f = fields[k];
            if (f.IsSizeOf && k + 1 < fields.Count)
            {
                var inner = fields[k + 1];
                string at = Tmp("at");
                if (f.Option("optional") is not null)
                {
                    sb.Append($"{indent}if ({obj}{Naming.Member(f.Name)} == 0) w.WriteUInt16(0);\n{indent}else\n{indent}{{\n");
                    sb.Append($"{indent}    int {at} = w.BeginSized16();\n{indent}    {obj}{Naming.Member(inner.Name)}.Marshal(ref w);\n{indent}    w.EndSized16({at});\n{indent}}}\n");
                }
                else
                {
                    sb.Append($"{indent}int {at} = w.BeginSized16();\n{indent}{obj}{Naming.Member(inner.Name)}.Marshal(ref w);\n{indent}w.EndSized16({at});\n");
                }
                k++;
                continue;
            }
            EmitWrite(sb, f, fields, obj, indent);
        }
    }

    void EmitWrite(StringBuilder sb, Field f, List<Field> fields, string obj, string indent)
    {
        string source = obj + Naming.Member(f.Name);
        if (f.Array != ArrayKind.None)
        {
            long cap = f.Array == ArrayKind.Counted ? model.Capacity(f) : model.Value(f.ArrayArg!, f.Origin);
            string count = f.Array == ArrayKind.Counted
                ? $"(int)System.Math.Min((ulong){obj}{Naming.Member(f.ArrayArg!)}, {cap}UL)"
                : cap.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (model.IsScalar(f.Type) && model.BaseOf(f.Type).Bytes == 1 && model.KindOf(f.Type) != TypeKind.Interface)
            {
                sb.Append($"{indent}w.WriteBytes(((ReadOnlySpan<{Cs(f.Type)}>){source})[..{count}]);\n");
                return;
            }
            string i = Tmp("i");
            sb.Append($"{indent}for (int {i} = 0; {i} < {count}; {i}++)\n{indent}{{\n");
            EmitElementWrite(sb, f, $"{source}[{i}]", obj, indent + "    ");
            sb.Append($"{indent}}}\n");
            return;
        }
        EmitElementWrite(sb, f, source, obj, indent);
    }

    void EmitElementWrite(StringBuilder sb, Field f, string source, string obj, string indent)
    {
        switch (model.KindOf(f.Type))
        {
            case TypeKind.Struct:
                sb.Append($"{indent}{source}.Marshal(ref w);\n");
                return;
            case TypeKind.Union:
                sb.Append($"{indent}{source}.Marshal(ref w, (ulong){obj}{Naming.Member(f.Selector!)});\n");
                return;
        }
        var bt = model.BaseOf(f.Type);
        sb.Append($"{indent}w.{WriteMethod(bt.Bytes)}(({UnsignedOf(bt.Bytes)}){source});\n");
    }
}
