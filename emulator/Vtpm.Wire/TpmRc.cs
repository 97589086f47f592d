using System.Reflection;

namespace Vtpm.Wire;

/// <summary>
/// TPM 2.0 Part 2 §6.6 TPM_RC. A response code with the format-1 position helpers: a format-1 code
/// (bit 7 set) carries the number of the handle, session or parameter it concerns in bits 8–11
/// (Part 2 §6.6.2, figure "Format-One Response Codes").
/// </summary>
public readonly partial record struct TpmRc(uint Code)
{
    const uint Fmt1Bit = 0x080;
    const uint ParameterBit = 0x040;
    const uint SessionBit = 0x800;

    public bool IsSuccess => Code == 0;
    public bool IsError => Code != 0;

    /// <summary>Format-1 codes carry an index; format-0 codes and warnings are returned as they are.</summary>
    public bool IsFormat1 => (Code & Fmt1Bit) != 0;

    /// <summary>The code without any handle/session/parameter number (format 1) — what a caller compares against.</summary>
    public TpmRc Base => IsFormat1 ? new TpmRc(Code & 0xBF) : this;

    /// <summary>Adds "parameter n" (1..15) to a format-1 code; other codes are returned unchanged.</summary>
    public TpmRc ForParameter(int n) => IsFormat1 && n is >= 1 and <= 15 && (Code & 0xF40) == 0
        ? new TpmRc(Code | ParameterBit | ((uint)n << 8)) : this;

    /// <summary>Adds "handle n" (1..7) to a format-1 code; other codes are returned unchanged.</summary>
    public TpmRc ForHandle(int n) => IsFormat1 && n is >= 1 and <= 7 && (Code & 0xF40) == 0
        ? new TpmRc(Code | ((uint)n << 8)) : this;

    /// <summary>Adds "session n" (1..7) to a format-1 code; other codes are returned unchanged.</summary>
    public TpmRc ForSession(int n) => IsFormat1 && n is >= 1 and <= 7 && (Code & 0xF40) == 0
        ? new TpmRc(Code | SessionBit | ((uint)n << 8)) : this;

    /// <summary>TPM_RC_REFERENCE_Hn / _Sn warnings (Part 2 §6.6.3) for handle or session index n (0-based).</summary>
    public static TpmRc ReferenceHandle(int index) => new(ReferenceH0.Code + (uint)index);
    public static TpmRc ReferenceSession(int index) => new(ReferenceS0.Code + (uint)index);

    public static implicit operator uint(TpmRc rc) => rc.Code;

    // Built on first use: static initializers of the generated partial may not have run yet at type init.
    static Dictionary<uint, string>? _names;
    static Dictionary<uint, string> Names => _names ??= BuildNames();

    static Dictionary<uint, string> BuildNames()
    {
        var names = new Dictionary<uint, string>();
        foreach (var f in typeof(TpmRc).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (f.GetValue(null) is TpmRc rc && !names.ContainsKey(rc.Code) && f.Name is not ("Ver1" or "Fmt1" or "Warn"))
            {
                names[rc.Code] = "TPM_RC_" + ToUpperSnake(f.Name);
            }
        }
        names[0] = "TPM_RC_SUCCESS";
        names[0x100] = "TPM_RC_INITIALIZE";
        return names;
    }

    static string ToUpperSnake(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (i > 0 && char.IsUpper(c) && !char.IsUpper(pascal[i - 1])) sb.Append('_');
            else if (i > 0 && char.IsDigit(c) && !char.IsDigit(pascal[i - 1])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>The spec name, with the handle/session/parameter number spelled out: "TPM_RC_VALUE (parameter 1)".</summary>
    public override string ToString()
    {
        if (Names.TryGetValue(Code, out var exact)) return exact;
        if (IsFormat1 && Names.TryGetValue(Base.Code, out var baseName))
        {
            uint n = (Code >> 8) & 0xF;
            if ((Code & ParameterBit) != 0) return $"{baseName} (parameter {n})";
            if ((Code & SessionBit) != 0) return $"{baseName} (session {n & 7})";
            return $"{baseName} (handle {n})";
        }
        return $"0x{Code:X}";
    }
}
