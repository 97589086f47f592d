using System.Globalization;

namespace Vtpm.Gen;

/// <summary>What a type name is, for code generation.</summary>
public enum TypeKind { Base, Alias, Enum, Bits, Interface, Struct, Union }

/// <summary>
/// The catalog with its names resolved: values of constants and enum members, wire sizes of scalar types,
/// the largest marshalled size of every structure and union, and the checks that make the data consistent.
/// </summary>
public sealed class Model
{
    public Catalog Catalog { get; }
    public List<string> Errors => Catalog.Errors;

    readonly Dictionary<string, long> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _evaluating = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
    readonly Dictionary<string, bool> _hasFlag = new(StringComparer.Ordinal);

    public Model(Catalog catalog)
    {
        Catalog = catalog;
        Validate();
    }

    public TypeKind KindOf(string type) => Catalog.ByName.TryGetValue(type, out var d) ? d switch
    {
        BaseDef => TypeKind.Base,
        AliasDef => TypeKind.Alias,
        EnumDef => TypeKind.Enum,
        BitsDef => TypeKind.Bits,
        InterfaceDef => TypeKind.Interface,
        StructDef => TypeKind.Struct,
        UnionDef => TypeKind.Union,
        _ => throw new InvalidOperationException(type),
    } : throw new KeyNotFoundException($"type {type} is not defined");

    public bool IsDefined(string type) => Catalog.ByName.TryGetValue(type, out var d) && d is not (ConstDef or CommandDef);

    public bool IsScalar(string type) => KindOf(type) is TypeKind.Base or TypeKind.Alias or TypeKind.Enum or TypeKind.Bits or TypeKind.Interface;

    /// <summary>The base type a scalar type is carried in.</summary>
    public BaseDef BaseOf(string type) => (Catalog.ByName.TryGetValue(type, out var def) ? def : throw new FormatException($"type {type} is not defined")) switch
    {
        BaseDef b => b,
        AliasDef a => BaseOf(a.Target),
        EnumDef e => BaseOf(e.Base),
        BitsDef b => BaseOf(b.Base),
        InterfaceDef i => BaseOf(i.Base),
        var d => throw new InvalidOperationException($"{d.Name} is not scalar"),
    };

    /// <summary>The enum or bits type behind a scalar (TPMI_ALG_HASH → TPM_ALG_ID), or null for plain numbers.</summary>
    public Def? NamedScalarOf(string type) => Catalog.ByName[type] switch
    {
        EnumDef e => e,
        BitsDef b => b,
        AliasDef a => NamedScalarOf(a.Target),
        InterfaceDef i => NamedScalarOf(i.Base),
        _ => null,
    };

    // ---- values ----

    public long Value(string expr, Origin where)
    {
        try
        {
            return new ExpressionParser(expr, this).Parse();
        }
        catch (FormatException e)
        {
            Errors.Add($"{where}: {e.Message}");
            return 0;
        }
    }

    public bool TryConstant(string name, out long value)
    {
        if (_values.TryGetValue(name, out value)) return true;
        if (!_evaluating.Add(name)) throw new FormatException($"{name} is defined in terms of itself");
        try
        {
            if (Catalog.ByName.TryGetValue(name, out var d) && d is ConstDef c)
            {
                value = new ExpressionParser(c.Expr, this).Parse();
            }
            else if (Catalog.Members.TryGetValue(name, out var m))
            {
                value = new ExpressionParser(m.Member.Expr, this).Parse();
                // Members hold their base type's width: (UINT32)(-1) style expressions wrap.
                int bytes = BaseOf(m.Enum.Name).Bytes;
                if (bytes < 8 && !BaseOf(m.Enum.Name).Signed) value &= (1L << (8 * bytes)) - 1;
            }
            else
            {
                return false;
            }
            _values[name] = value;
            return true;
        }
        finally
        {
            _evaluating.Remove(name);
        }
    }

    // ---- sizes ----

    /// <summary>The largest number of bytes the type marshals to.</summary>
    public long MaxSize(string type)
    {
        if (_sizes.TryGetValue(type, out long s)) return s;
        if (!_evaluating.Add("sizeof:" + type)) throw new FormatException($"sizeof({type}) is recursive");
        try
        {
            s = Catalog.ByName.TryGetValue(type, out var d) ? d switch
            {
                StructDef st => st.Fields.Sum(FieldMaxSize),
                UnionDef u => u.Arms.Count == 0 ? 0 : u.Arms.Max(a => a.Field is null ? 0 : FieldMaxSize(a.Field)),
                ConstDef or CommandDef => throw new FormatException($"sizeof({type}): not a type"),
                _ => BaseOf(type).Bytes,
            } : throw new FormatException($"sizeof({type}): not defined");
            _sizes[type] = s;
            return s;
        }
        finally
        {
            _evaluating.Remove("sizeof:" + type);
        }
    }

    public long FieldMaxSize(Field f)
    {
        long element = MaxSize(f.Type);
        return f.Array switch
        {
            ArrayKind.Fixed => element * Value(f.ArrayArg!, f.Origin),
            ArrayKind.Counted => element * Capacity(f),
            _ => element,
        };
    }

    /// <summary>Capacity of a counted array: the max= of its count field.</summary>
    public long Capacity(Field array)
    {
        var owner = OwnerOf(array);
        var count = owner?.FirstOrDefault(x => x.Name == array.ArrayArg);
        if (count?.Option("max") is { } max) return Value(max, count.Origin);
        if (count is null) Errors.Add($"{array.Origin}: count field '{array.ArrayArg}' of {array.Name} not found before it");
        else Errors.Add($"{count.Origin}: count field {count.Name} needs max=");
        return 0;
    }

    readonly Dictionary<Field, List<Field>> _owners = [];

    public List<Field>? OwnerOf(Field f) => _owners.GetValueOrDefault(f);

    void Own(List<Field> fields)
    {
        foreach (var f in fields) _owners[f] = fields;
    }

    // ---- null flags ----

    /// <summary>
    /// Whether a structure's unmarshal takes the null flag of its use: it has a '+' member of an interface type
    /// (TPMT_HA.hashAlg, TPMT_PUBLIC.nameAlg), or is a size= wrapper of such a structure (TPM2B_PUBLIC).
    /// Its '+' members then accept null only when the use does; '+' members of other structures always do.
    /// </summary>
    public bool HasNullFlag(string type)
    {
        if (_hasFlag.TryGetValue(type, out bool v)) return v;
        _hasFlag[type] = false;
        v = Catalog.ByName.GetValueOrDefault(type) switch
        {
            InterfaceDef i => i.Null is not null,
            StructDef s => s.Fields.Any(f => f.Plus && KindOf(f.Type) == TypeKind.Interface)
                || (s.Fields.Any(f => f.IsSizeOf) && s.Fields.Any(f => f.Plus && KindOf(f.Type) == TypeKind.Struct && HasNullFlag(f.Type))),
            _ => false,
        };
        _hasFlag[type] = v;
        return v;
    }

    // ---- validation ----

    void Validate()
    {
        // Count fields are found through their owner: know every owner before anything is evaluated.
        foreach (var d in Catalog.Defs)
        {
            if (d is StructDef st) Own(st.Fields);
            if (d is CommandDef cd)
            {
                Own(cd.In);
                Own(cd.Out);
            }
        }
        foreach (var d in Catalog.Defs)
        {
            switch (d)
            {
                case AliasDef a: NeedScalar(a.Target, a.Origin); break;
                case EnumDef e:
                    NeedScalar(e.Base, e.Origin);
                    if (e.Error is not null) NeedRc(e.Error, e.Origin);
                    break;
                case BitsDef b: NeedScalar(b.Base, b.Origin); break;
                case InterfaceDef i:
                    NeedScalar(i.Base, i.Origin);
                    NeedRc(i.Error, i.Origin);
                    if (i.Null is not null) Value(i.Null, i.Origin);
                    foreach (var r in i.Values)
                    {
                        Value(r.Lo, i.Origin);
                        if (r.Hi is not null) Value(r.Hi, i.Origin);
                    }
                    break;
                case StructDef s:
                    Own(s.Fields);
                    break;
                case UnionDef u:
                    foreach (var a in u.Arms)
                    {
                        Value(a.Selector, u.Origin);
                        if (a.Field is not null) CheckField(a.Field, []);
                    }
                    break;
                case CommandDef c:
                    Own(c.In);
                    Own(c.Out);
                    break;
                case ConstDef k: Value(k.Expr, k.Origin); break;
            }
        }
        foreach (var d in Catalog.Defs)
        {
            try
            {
                if (d is StructDef s) CheckFields(s.Fields);
                if (d is CommandDef c)
                {
                    Value(c.Code, c.Origin);
                    foreach (var h in c.Handles) CheckField(h.Field, []);
                    CheckFields(c.In);
                    CheckFields(c.Out);
                    if (c.ResponseHandle is not null) CheckField(c.ResponseHandle, []);
                }
            }
            catch (FormatException e)
            {
                Errors.Add($"{d.Origin}: {e.Message}");
            }
        }
        if (Errors.Count > 0) return; // sizes and values need every name resolved
        foreach (var e in Catalog.All<EnumDef>())
            foreach (var m in e.Members)
                if (!TryConstantSafe(m.Name, m.Origin)) Errors.Add($"{m.Origin}: {m.Name}: bad value");
        foreach (var s in Catalog.All<StructDef>()) SafeSize(s.Name, s.Origin);
        foreach (var u in Catalog.All<UnionDef>()) SafeSize(u.Name, u.Origin);
    }

    bool TryConstantSafe(string name, Origin o)
    {
        try
        {
            return TryConstant(name, out _);
        }
        catch (FormatException e)
        {
            Errors.Add($"{o}: {e.Message}");
            return true;
        }
    }

    void SafeSize(string name, Origin o)
    {
        try
        {
            MaxSize(name);
        }
        catch (FormatException e)
        {
            Errors.Add($"{o}: {e.Message}");
        }
    }

    void CheckFields(List<Field> fields)
    {
        for (int k = 0; k < fields.Count; k++) CheckField(fields[k], fields.Take(k).ToList());
    }

    void CheckField(Field f, List<Field> before)
    {
        if (!IsDefined(f.Type))
        {
            Errors.Add($"{f.Origin}: type {f.Type} of {f.Name} is not defined");
            return;
        }
        if (f.Selector is not null && !before.Any(b => b.Name == f.Selector))
            Errors.Add($"{f.Origin}: selector {f.Selector} of {f.Name} is not an earlier field");
        if (f.Selector is null && KindOf(f.Type) == TypeKind.Union)
            Errors.Add($"{f.Origin}: union {f.Type} used without [selector]");
        if (f.Array == ArrayKind.Counted && !before.Any(b => b.Name == f.ArrayArg))
            Errors.Add($"{f.Origin}: count {f.ArrayArg} of {f.Name} is not an earlier field");
        if (f.Array == ArrayKind.Fixed) Value(f.ArrayArg!, f.Origin);
        if (f.Option("max") is { } max) Value(max, f.Origin);
        if (f.Option("min") is { } min) Value(min, f.Origin);
        if (f.Option("error") is { } err) NeedRc(err, f.Origin);
        if (f.Option("tag") is { } tags) foreach (var t in tags.Split(',')) Value(t, f.Origin);
        if (f.IsSizeOf && (!IsScalar(f.Type) || BaseOf(f.Type).Bytes != 2)) Errors.Add($"{f.Origin}: a size= field must be a UINT16");
    }

    void NeedScalar(string type, Origin o)
    {
        if (!IsDefined(type)) Errors.Add($"{o}: type {type} is not defined");
        else if (!IsScalar(type)) Errors.Add($"{o}: {type} is not a scalar type");
    }

    void NeedRc(string rc, Origin o)
    {
        if (!Catalog.Members.TryGetValue(rc, out var m) || m.Enum.Name != "TPM_RC") Errors.Add($"{o}: {rc} is not a TPM_RC constant");
    }
}

/// <summary>Integer expressions: numbers, constant names, + - * / ( ) and sizeof(TYPE).</summary>
sealed class ExpressionParser(string text, Model model)
{
    int _pos;

    public long Parse()
    {
        long v = Sum();
        Skip();
        if (_pos != text.Length) throw new FormatException($"unexpected '{text[_pos..]}' in '{text}'");
        return v;
    }

    void Skip()
    {
        while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
    }

    long Sum()
    {
        long v = Product();
        while (true)
        {
            Skip();
            if (_pos < text.Length && text[_pos] is '+' or '-')
            {
                char op = text[_pos++];
                long r = Product();
                v = op == '+' ? v + r : v - r;
            }
            else return v;
        }
    }

    long Product()
    {
        long v = Unary();
        while (true)
        {
            Skip();
            if (_pos < text.Length && text[_pos] is '*' or '/')
            {
                char op = text[_pos++];
                long r = Unary();
                v = op == '*' ? v * r : v / r;
            }
            else if (_pos + 1 < text.Length && text[_pos] == '<' && text[_pos + 1] == '<')
            {
                _pos += 2;
                v <<= (int)Unary();
            }
            else if (_pos < text.Length && text[_pos] == '|')
            {
                _pos++;
                v |= Unary();
            }
            else return v;
        }
    }

    long Unary()
    {
        Skip();
        if (_pos >= text.Length) throw new FormatException($"'{text}' ends early");
        char c = text[_pos];
        if (c == '-')
        {
            _pos++;
            return -Unary();
        }
        if (c == '~')
        {
            _pos++;
            return ~Unary();
        }
        if (c == '(')
        {
            _pos++;
            // A C cast such as (UINT32) is skipped: the value is what matters.
            int save = _pos;
            string word = Word();
            Skip();
            if (word.Length > 0 && _pos < text.Length && text[_pos] == ')' && model.IsDefined(word))
            {
                _pos++;
                return Unary();
            }
            _pos = save;
            long v = Sum();
            Skip();
            if (_pos >= text.Length || text[_pos] != ')') throw new FormatException($"')' missing in '{text}'");
            _pos++;
            return v;
        }
        if (char.IsDigit(c))
        {
            int start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]))) _pos++;
            string n = text[start.._pos].TrimEnd('u', 'U', 'l', 'L');
            return n.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? long.Parse(n[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.Parse(n, CultureInfo.InvariantCulture);
        }
        string name = Word();
        if (name.Length == 0) throw new FormatException($"unexpected '{c}' in '{text}'");
        if (name == "sizeof")
        {
            Skip();
            if (_pos >= text.Length || text[_pos] != '(') throw new FormatException($"sizeof needs ( in '{text}'");
            _pos++;
            Skip();
            string type = Word();
            Skip();
            if (_pos >= text.Length || text[_pos] != ')') throw new FormatException($"')' missing in '{text}'");
            _pos++;
            return model.MaxSize(type);
        }
        if (model.TryConstant(name, out long value)) return value;
        throw new FormatException($"unknown constant {name} in '{text}'");
    }

    string Word()
    {
        int start = _pos;
        while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
        return text[start.._pos];
    }
}
