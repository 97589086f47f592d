namespace Vtpm.Wire.Tpm2;

/// <summary>The authorization role a handle requires (Part 1 §19.2, Part 3 "Auth Role" column).</summary>
public enum AuthRole : byte
{
    None,
    User,
    Admin,
    Dup,
}

/// <summary>What the catalog says of a command beyond its handles (TPMA_CC bits and session rules).</summary>
[Flags]
public enum CommandAttributes : uint
{
    None = 0,

    /// <summary>TPMA_CC nv: the command may write NV.</summary>
    Nv = 1 << 0,

    /// <summary>TPMA_CC extensive: the command may flush many objects.</summary>
    Extensive = 1 << 1,

    /// <summary>TPMA_CC flushed: the command flushes its (first) handle.</summary>
    Flushed = 1 << 2,

    /// <summary>The command takes no sessions at all (TPM_RC_AUTH_CONTEXT otherwise).</summary>
    NoSessions = 1 << 3,

    /// <summary>Physical presence may be required (Part 3 §26).</summary>
    PhysicalPresence = 1 << 4,

    /// <summary>The first command parameter is a TPM2B: a session may encrypt it (Part 1 §21).</summary>
    DecryptParameter = 1 << 5,

    /// <summary>The first response parameter is a TPM2B: a session may encrypt it.</summary>
    EncryptParameter = 1 << 6,

    /// <summary>The response carries one handle.</summary>
    ResponseHandle = 1 << 7,
}

/// <summary>One entry of a command's handle area: its name, interface type, role and whether TPM_RH_NULL is allowed.</summary>
public readonly record struct CommandHandleInfo(string Name, HandleType Type, AuthRole Role, bool AllowNull);

/// <summary>A Part 3 command as the catalog describes it.</summary>
public sealed record CommandInfo(TpmCc Code, string Name, string Section, CommandAttributes Attributes, CommandHandleInfo[] Handles)
{
    public bool Has(CommandAttributes a) => (Attributes & a) == a;

    /// <summary>Handles that need authorization (the "@" entries), in handle order.</summary>
    public int AuthHandleCount => Handles.Count(h => h.Role != AuthRole.None);

    /// <summary>
    /// The command's TPMA_CC (Part 2 §8.9): command index, nv, extensive, flushed, cHandles, rHandle — what
    /// TPM2_GetCapability(TPM_CAP_COMMANDS) reports.
    /// </summary>
    public uint TpmaCc =>
        ((uint)Code & 0xFFFF)
        | (Has(CommandAttributes.Nv) ? 1u << 22 : 0)
        | (Has(CommandAttributes.Extensive) ? 1u << 23 : 0)
        | (Has(CommandAttributes.Flushed) ? 1u << 24 : 0)
        | ((uint)Handles.Length << 25)
        | (Has(CommandAttributes.ResponseHandle) ? 1u << 28 : 0)
        | ((uint)Code & VendorBit);

    /// <summary>TPM_CC's V bit (bit 29): a vendor-specific command; TPMA_CC carries it in the same place.</summary>
    public const uint VendorBit = 1u << 29;
}

public static partial class CommandCatalog
{
    const uint First = 0x11F;

    // Built on first use: All is initialised in the generated half of this class, whose initialisers may run later.
    static CommandInfo?[]? _dense;

    static CommandInfo?[] Dense => _dense ??= BuildDense();

    static CommandInfo?[] BuildDense()
    {
        uint last = All.Where(c => ((uint)c.Code & CommandInfo.VendorBit) == 0).Max(c => (uint)c.Code);
        var table = new CommandInfo?[last - First + 1];
        foreach (var c in All) if (((uint)c.Code & CommandInfo.VendorBit) == 0) table[(uint)c.Code - First] = c;
        return table;
    }

    /// <summary>The catalog entry of a command code, or null if Part 3 has no such command.</summary>
    public static CommandInfo? Lookup(uint code)
    {
        if ((code & CommandInfo.VendorBit) == 0) return code >= First && code - First < Dense.Length ? Dense[code - First] : null;
        foreach (var c in All) if ((uint)c.Code == code) return c;
        return null;
    }

    public static CommandInfo Get(TpmCc code) => Lookup((uint)code) ?? throw new KeyNotFoundException($"{code} is not in the command catalog");
}
