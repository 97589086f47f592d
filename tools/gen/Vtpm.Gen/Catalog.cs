using System.Globalization;

namespace Vtpm.Gen;

/// <summary>Where a definition came from, for error messages.</summary>
public readonly record struct Origin(string File, int Line)
{
    public override string ToString() => $"{Path.GetFileName(File)}:{Line}";
}

public abstract record Def(string Name, string Section, Origin Origin);

public sealed record ConstDef(string Name, string Expr, string Section, Origin Origin) : Def(Name, Section, Origin);

public sealed record BaseDef(string Name, int Bytes, bool Signed, string Section, Origin Origin) : Def(Name, Section, Origin);

public sealed record AliasDef(string Name, string Target, string Section, Origin Origin) : Def(Name, Section, Origin);

public sealed record EnumMember(string Name, string Expr, Origin Origin);

/// <summary>A constant type; <paramref name="Error"/> (the table's "#TPM_RC_x" line) makes it checked on input: only its members.</summary>
public sealed record EnumDef(string Name, string Base, List<EnumMember> Members, string Section, Origin Origin, string? Error = null)
    : Def(Name, Section, Origin);

public sealed record BitField(string Name, int Lo, int Hi, string? CsName = null);

public sealed record BitsDef(string Name, string Base, List<BitField> Fields, List<(int Lo, int Hi)> Reserved, bool ReservedIgnored, string Section, Origin Origin)
    : Def(Name, Section, Origin);

public sealed record ValueRange(string Lo, string? Hi);

public sealed record InterfaceDef(string Name, string Base, string Error, string? Null, List<ValueRange> Values, string Section, Origin Origin)
    : Def(Name, Section, Origin);

public enum ArrayKind { None, Counted, Fixed }

/// <summary>A structure field or command parameter.</summary>
public sealed record Field(string Name, string Type, bool Plus, ArrayKind Array, string? ArrayArg, string? Selector,
    Dictionary<string, string> Options, Origin Origin)
{
    public bool IsSizeOf => Options.ContainsKey("size");
    public string? Option(string key) => Options.TryGetValue(key, out var v) ? v : null;
}

public sealed record StructDef(string Name, List<Field> Fields, string Section, Origin Origin) : Def(Name, Section, Origin);

public sealed record UnionArm(string Selector, string FieldName, Field? Field);

public sealed record UnionDef(string Name, List<UnionArm> Arms, string Section, Origin Origin) : Def(Name, Section, Origin);

public enum AuthRole { None, User, Admin, Dup }

public sealed record CommandHandle(Field Field, bool Auth, AuthRole Role);

public sealed record CommandDef(string Name, string Code, HashSet<string> Attributes, List<CommandHandle> Handles, List<Field> In,
    List<Field> Out, Field? ResponseHandle, string Section, Origin Origin) : Def(Name, Section, Origin);

/// <summary>The parsed catalog: every definition by name, in file order.</summary>
public sealed class Catalog
{
    public List<Def> Defs { get; } = [];
    public Dictionary<string, Def> ByName { get; } = new(StringComparer.Ordinal);

    /// <summary>Enum members by constant name (they are usable as constants anywhere).</summary>
    public Dictionary<string, (EnumDef Enum, EnumMember Member)> Members { get; } = new(StringComparer.Ordinal);

    public List<string> Errors { get; } = [];

    public IEnumerable<T> All<T>() where T : Def => Defs.OfType<T>();

    public static Catalog Load(string directory)
    {
        var c = new Catalog();
        foreach (var file in Directory.GetFiles(directory, "*.tpm").Order(StringComparer.Ordinal)) c.ParseFile(file);
        return c;
    }

    void Add(Def d)
    {
        if (ByName.TryGetValue(d.Name, out var old))
        {
            Errors.Add($"{d.Origin}: {d.Name} already defined at {old.Origin}");
            return;
        }
        Defs.Add(d);
        ByName[d.Name] = d;
        if (d is EnumDef e)
        {
            foreach (var m in e.Members)
            {
                if (Members.ContainsKey(m.Name) || ByName.ContainsKey(m.Name)) Errors.Add($"{m.Origin}: constant {m.Name} defined twice");
                else Members[m.Name] = (e, m);
            }
        }
    }

    void ParseFile(string file)
    {
        var lines = File.ReadAllLines(file);
        int i = 0;
        while (i < lines.Length)
        {
            var (head, headLine) = (Strip(lines[i]), i + 1);
            i++;
            if (head.Length == 0) continue;
            if (char.IsWhiteSpace(lines[headLine - 1][0]))
            {
                Errors.Add($"{Path.GetFileName(file)}:{headLine}: member line outside a definition");
                continue;
            }
            var members = new List<(string[] Tokens, Origin Origin)>();
            while (i < lines.Length && (lines[i].Length == 0 || char.IsWhiteSpace(lines[i][0]) || Strip(lines[i]).Length == 0))
            {
                string s = Strip(lines[i]);
                if (s.Length > 0) members.Add((Tokens(s), new Origin(file, i + 1)));
                i++;
            }
            try
            {
                ParseDefinition(Tokens(head), members, new Origin(file, headLine));
            }
            catch (FormatException e)
            {
                Errors.Add($"{Path.GetFileName(file)}:{headLine}: {e.Message}");
            }
        }
    }

    static string Strip(string line)
    {
        int hash = line.IndexOf('#');
        return (hash >= 0 ? line[..hash] : line).Trim();
    }

    static string[] Tokens(string s) => s.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    static (List<string> Plain, Dictionary<string, string> Options, string Section) Split(IEnumerable<string> tokens)
    {
        var plain = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string section = "";
        foreach (var t in tokens)
        {
            if (t.StartsWith('§')) section = t;
            else if (t.Contains('=') && !t.StartsWith('='))
            {
                int eq = t.IndexOf('=');
                options[t[..eq]] = t[(eq + 1)..];
            }
            else plain.Add(t);
        }
        return (plain, options, section);
    }

    void ParseDefinition(string[] head, List<(string[] Tokens, Origin Origin)> members, Origin origin)
    {
        var (plain, options, section) = Split(head.Skip(1));
        string Need(int k, string what) => k < plain.Count ? plain[k] : throw new FormatException($"{head[0]}: {what} missing");
        switch (head[0])
        {
            case "const":
                Add(new ConstDef(Need(0, "name"), Need(1, "value"), section, origin));
                break;
            case "base":
                Add(new BaseDef(Need(0, "name"), int.Parse(Need(1, "size"), CultureInfo.InvariantCulture), plain.Contains("signed"), section, origin));
                break;
            case "alias":
                Add(new AliasDef(Need(0, "name"), Need(1, "target"), section, origin));
                break;
            case "enum":
            {
                var list = new List<EnumMember>();
                foreach (var (t, o) in members)
                {
                    if (t.Length < 2) throw new FormatException($"{o}: enum member needs a name and a value");
                    list.Add(new EnumMember(t[0], string.Concat(t.Skip(1).Where(x => !x.StartsWith('§'))), o));
                }
                Add(new EnumDef(Need(0, "name"), Need(1, "base type"), list, section, origin, options.GetValueOrDefault("error")));
                break;
            }
            case "bits":
            {
                var fields = new List<BitField>();
                var reserved = new List<(int, int)>();
                foreach (var (t, o) in members)
                {
                    if (t[0] == "reserved")
                    {
                        foreach (var r in t.Skip(1)) reserved.Add(Range(r, o));
                        continue;
                    }
                    if (t.Length < 2) throw new FormatException($"{o}: bit member needs a name and a bit");
                    var (lo, hi) = Range(t[1], o);
                    string? cs = t.Skip(2).FirstOrDefault(x => x.StartsWith("cs=", StringComparison.Ordinal))?[3..];
                    fields.Add(new BitField(t[0], lo, hi, cs));
                }
                Add(new BitsDef(Need(0, "name"), Need(1, "base type"), fields, reserved, options.GetValueOrDefault("reserved") == "ignore", section, origin));
                break;
            }
            case "type":
            {
                var values = new List<ValueRange>();
                foreach (var (t, _) in members)
                {
                    foreach (var v in t)
                    {
                        int dots = v.IndexOf("..", StringComparison.Ordinal);
                        values.Add(dots > 0 ? new ValueRange(v[..dots], v[(dots + 2)..]) : new ValueRange(v, null));
                    }
                }
                Add(new InterfaceDef(Need(0, "name"), Need(1, "base type"), options.GetValueOrDefault("error") ?? "TPM_RC_VALUE",
                    options.GetValueOrDefault("null"), values, section, origin));
                break;
            }
            case "struct":
                Add(new StructDef(Need(0, "name"), [.. members.Select(m => ParseField(m.Tokens, m.Origin))], section, origin));
                break;
            case "union":
            {
                var arms = new List<UnionArm>();
                foreach (var (t, o) in members)
                {
                    if (t.Length < 2) throw new FormatException($"{o}: union arm needs a selector and a name");
                    arms.Add(new UnionArm(t[0], t[1], t.Length > 2 ? ParseField(t[1..], o) : null));
                }
                Add(new UnionDef(Need(0, "name"), arms, section, origin));
                break;
            }
            case "command":
            {
                var handles = new List<CommandHandle>();
                var ins = new List<Field>();
                var outs = new List<Field>();
                Field? rhandle = null;
                foreach (var (t, o) in members)
                {
                    switch (t[0])
                    {
                        case "handle":
                        {
                            bool auth = t.Length > 1 && t[1].StartsWith('@');
                            var rest = t[1..].ToArray();
                            if (auth) rest[0] = rest[0][1..];
                            var role = AuthRole.None;
                            var fieldTokens = new List<string>();
                            foreach (var x in rest)
                            {
                                if (x is "USER" or "ADMIN" or "DUP") role = Enum.Parse<AuthRole>(x, ignoreCase: true);
                                else fieldTokens.Add(x);
                            }
                            if (auth && role == AuthRole.None) throw new FormatException($"{o}: an @ handle needs USER, ADMIN or DUP");
                            if (!auth && role != AuthRole.None) throw new FormatException($"{o}: a role without @");
                            handles.Add(new CommandHandle(ParseField([.. fieldTokens], o), auth, role));
                            break;
                        }
                        case "in": ins.Add(ParseField(t[1..], o)); break;
                        case "out": outs.Add(ParseField(t[1..], o)); break;
                        case "rhandle": rhandle = ParseField(t[1..], o); break;
                        default: throw new FormatException($"{o}: unknown command member '{t[0]}'");
                    }
                }
                var attributes = new HashSet<string>(plain.Skip(2), StringComparer.Ordinal);
                foreach (var a in attributes)
                    if (a is not ("nv" or "extensive" or "flushed" or "nosessions" or "pp"))
                        throw new FormatException($"unknown command attribute '{a}'");
                Add(new CommandDef(Need(0, "name"), Need(1, "code"), attributes, handles, ins, outs, rhandle, section, origin));
                break;
            }
            default:
                throw new FormatException($"unknown definition '{head[0]}'");
        }
    }

    static (int, int) Range(string s, Origin o)
    {
        int colon = s.IndexOf(':');
        try
        {
            return colon > 0
                ? (int.Parse(s[..colon], CultureInfo.InvariantCulture), int.Parse(s[(colon + 1)..], CultureInfo.InvariantCulture))
                : (int.Parse(s, CultureInfo.InvariantCulture), int.Parse(s, CultureInfo.InvariantCulture));
        }
        catch (FormatException)
        {
            throw new FormatException($"{o}: '{s}' is not a bit or bit range");
        }
    }

    static Field ParseField(string[] t, Origin o)
    {
        var (plain, options, _) = Split(t);
        // A bare word after the type is an option without value (size=, optional).
        if (plain.Count < 2) throw new FormatException($"{o}: a field needs a name and a type");
        string name = plain[0];
        string type = plain[1];
        foreach (var flag in plain.Skip(2)) options[flag] = "";
        // "size=" is parsed as option "size" with an empty value by Split.
        var array = ArrayKind.None;
        string? arg = null, selector = null;
        int bracket = type.IndexOf('[');
        if (bracket > 0)
        {
            if (!type.EndsWith(']')) throw new FormatException($"{o}: unbalanced [ in '{type}'");
            arg = type[(bracket + 1)..^1];
            type = type[..bracket];
        }
        bool plus = type.EndsWith('+');
        if (plus) type = type[..^1];
        if (arg is not null)
        {
            if (type.StartsWith("TPMU_", StringComparison.Ordinal)) selector = arg;
            else array = IsIdentifier(arg) && !arg.All(c => char.IsUpper(c) || char.IsDigit(c) || c == '_') ? ArrayKind.Counted : ArrayKind.Fixed;
            if (selector is not null) arg = null;
        }
        return new Field(name, type, plus, array, arg, selector, options, o);
    }

    static bool IsIdentifier(string s) => s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c == '_');
}
