using System.Text;

namespace Vtpm.Gen;

/// <summary>Specification names in C# casing: TPMS_PCR_SELECTION → TpmsPcrSelection, TPM_ALG_SHA256 → Sha256.</summary>
public static class Naming
{
    static readonly HashSet<string> Keywords = ["null", "in", "out", "ref", "base", "object", "string", "params", "event", "operator", "checked", "fixed", "lock"];

    /// <summary>A type name: each underscore-separated part capitalised (TPM2B_PUBLIC → Tpm2bPublic).</summary>
    public static string Type(string spec)
    {
        var sb = new StringBuilder();
        foreach (var part in spec.Split('_', StringSplitOptions.RemoveEmptyEntries)) sb.Append(Part(part));
        return sb.Length > 0 && char.IsDigit(sb[0]) ? "_" + sb : sb.ToString();
    }

    static string Part(string p) =>
        p.All(c => char.IsUpper(c) || char.IsDigit(c)) ? p[0] + p[1..].ToLowerInvariant() : char.ToUpperInvariant(p[0]) + p[1..];

    /// <summary>A field or parameter name as a C# member (sizeofSelect → SizeofSelect).</summary>
    public static string Member(string spec)
    {
        string s = spec.TrimStart('_');
        if (s.Contains('_')) return Type(s);
        return char.ToUpperInvariant(s[0]) + s[1..];
    }

    /// <summary>A parameter name as a C# local (camelCase, keywords escaped).</summary>
    public static string Local(string spec)
    {
        string m = Member(spec);
        string l = char.ToLowerInvariant(m[0]) + m[1..];
        return Keywords.Contains(l) ? "@" + l : l;
    }

    /// <summary>
    /// An enum member without its family prefix: the enum's own name (TPM_PT_PCR_ for TPM_PT_PCR), else the
    /// prefix most members share (TPM_ALG_ for TPM_ALG_ID), else everything up to the second underscore.
    /// </summary>
    public static string EnumMember(string member, string prefix)
    {
        if (prefix.Length == 0) return Type(member);
        string rest = member.StartsWith(prefix, StringComparison.Ordinal) ? member[prefix.Length..]
            : member.StartsWith("TPM_", StringComparison.Ordinal) ? member[(member.IndexOf('_', 4) + 1)..]
            : member[(member.IndexOf('_') + 1)..];
        return Type(rest);
    }

    public static string PrefixOf(EnumDef e)
    {
        if (e.Members.Count(m => m.Name.StartsWith(e.Name + "_", StringComparison.Ordinal)) * 2 > e.Members.Count) return e.Name + "_";
        var best = e.Members
            .Where(m => m.Name.Count(c => c == '_') >= 2)
            .GroupBy(m => m.Name[..(m.Name.IndexOf('_', m.Name.IndexOf('_') + 1) + 1)])
            .OrderByDescending(g => g.Count())
            .FirstOrDefault();
        // Members without a shared family prefix (TPM_HC: HR_PCR, TRANSIENT_FIRST...) keep their whole names.
        return best is not null && best.Count() * 2 > e.Members.Count ? best.Key : "";
    }

    /// <summary>
    /// An attribute bit without its family prefix: TPMA_NV_PPWRITE → Ppwrite, TPM_LOC_ZERO → Zero; camelCase
    /// names (fixedTPM) as members (FixedTPM).
    /// </summary>
    public static string BitName(string field, string bitsType)
    {
        if (field.StartsWith(bitsType + "_", StringComparison.Ordinal)) return Type(field[(bitsType.Length + 1)..]);
        if (field.StartsWith("TPM_", StringComparison.Ordinal) && field.Count(c => c == '_') >= 2) return Type(field[(field.IndexOf('_', 4) + 1)..]);
        return Member(field);
    }

    /// <summary>Command name: TPM2_NV_Write → NvWrite.</summary>
    public static string Command(string spec) => Type(spec.StartsWith("TPM2_", StringComparison.Ordinal) ? spec[5..] : spec);
}
