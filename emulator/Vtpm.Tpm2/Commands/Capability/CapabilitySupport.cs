using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Capability;

/// <summary>TPMA_CC (Part 2 §8.9).</summary>
[Flags]
public enum TpmaCc : uint
{
    None = 0,
    CommandIndexMask = 0xFFFF,
    Nv = 1u << 22,
    Extensive = 1u << 23,
    Flushed = 1u << 24,
    CHandlesShift = 25,
    RHandle = 1u << 28,
    V = 1u << 29,
}

/// <summary>The fixed answers of TPM2_GetCapability: TPMA_CC bits, fixed TPM properties, limits.</summary>
public static class CapabilitySupport
{
    /// <summary>MAX_CAP_BUFFER (TPM_PT_MAX_CAP_BUFFER) and MAX_CAP_DATA = MAX_CAP_BUFFER − capability − count.</summary>
    public const int MaxCapBuffer = 1024;
    public const int MaxCapData = MaxCapBuffer - 4 - 4;

    public const int MaxCapAlgs = MaxCapData / 6;
    public const int MaxCapHandles = MaxCapData / 4;
    public const int MaxCapCc = MaxCapData / 4;
    public const int MaxTpmProperties = MaxCapData / 8;
    public const int MaxPcrProperties = MaxCapData / (4 + 1 + PcrSubsystem.SelectSize);
    public const int MaxEccCurves = MaxCapData / 2;
    public const int MaxTaggedPolicies = MaxCapData / (4 + 2 + 64);
    public const int MaxActData = MaxCapData / 12;

    /// <summary>
    /// The nv / extensive / flushed attributes of each command (Part 3's command attribute tables, as
    /// the reference reports them in TPMA_CC); commands not listed have none.
    /// </summary>
    static readonly Dictionary<uint, TpmaCc> Attributes = new()
    {
        [0x11F] = TpmaCc.Nv, // CC_NV_UndefineSpaceSpecial
        [0x120] = TpmaCc.Nv, // CC_EvictControl
        [0x121] = TpmaCc.Nv | TpmaCc.Extensive, // CC_HierarchyControl
        [0x122] = TpmaCc.Nv, // CC_NV_UndefineSpace
        [0x124] = TpmaCc.Nv | TpmaCc.Extensive, // CC_ChangeEPS
        [0x125] = TpmaCc.Nv | TpmaCc.Extensive, // CC_ChangePPS
        [0x126] = TpmaCc.Nv | TpmaCc.Extensive, // CC_Clear
        [0x127] = TpmaCc.Nv, // CC_ClearControl
        [0x128] = TpmaCc.Nv, // CC_ClockSet
        [0x129] = TpmaCc.Nv, // CC_HierarchyChangeAuth
        [0x12A] = TpmaCc.Nv, // CC_NV_DefineSpace
        [0x12B] = TpmaCc.Nv, // CC_PCR_Allocate
        [0x12C] = TpmaCc.Nv, // CC_PCR_SetAuthPolicy
        [0x12D] = TpmaCc.Nv, // CC_PP_Commands
        [0x12E] = TpmaCc.Nv, // CC_SetPrimaryPolicy
        [0x132] = TpmaCc.Nv, // CC_NV_GlobalWriteLock
        [0x133] = TpmaCc.Nv, // CC_GetCommandAuditDigest
        [0x134] = TpmaCc.Nv, // CC_NV_Increment
        [0x135] = TpmaCc.Nv, // CC_NV_SetBits
        [0x136] = TpmaCc.Nv, // CC_NV_Extend
        [0x137] = TpmaCc.Nv, // CC_NV_Write
        [0x138] = TpmaCc.Nv, // CC_NV_WriteLock
        [0x139] = TpmaCc.Nv, // CC_DictionaryAttackLockReset
        [0x13A] = TpmaCc.Nv, // CC_DictionaryAttackParameters
        [0x13B] = TpmaCc.Nv, // CC_NV_ChangeAuth
        [0x13C] = TpmaCc.Nv, // CC_PCR_Event
        [0x13D] = TpmaCc.Nv, // CC_PCR_Reset
        [0x13E] = TpmaCc.Flushed, // CC_SequenceComplete
        [0x13F] = TpmaCc.Nv, // CC_SetAlgorithmSet
        [0x140] = TpmaCc.Nv, // CC_SetCommandCodeAuditStatus
        [0x142] = TpmaCc.Nv, // CC_IncrementalSelfTest
        [0x143] = TpmaCc.Nv, // CC_SelfTest
        [0x144] = TpmaCc.Nv, // CC_Startup
        [0x145] = TpmaCc.Nv, // CC_Shutdown
        [0x146] = TpmaCc.Nv, // CC_StirRandom
        [0x14F] = TpmaCc.Nv, // CC_NV_ReadLock
        [0x182] = TpmaCc.Nv, // CC_PCR_Extend
        [0x185] = TpmaCc.Nv | TpmaCc.Flushed, // CC_EventSequenceComplete
    };

    /// <summary>TPMA_CC of an implemented command (Part 2 §8.9).</summary>
    public static uint TpmaCcOf(CommandDescriptor d)
    {
        uint code = (uint)d.Code;
        uint v = code & (uint)TpmaCc.CommandIndexMask;
        if (Attributes.TryGetValue(code, out var a)) v |= (uint)a;
        v |= (uint)d.Handles.Length << (int)TpmaCc.CHandlesShift;
        if ((d.Flags & CommandFlags.ResponseHandle) != 0) v |= (uint)TpmaCc.RHandle;
        return v;
    }

    /// <summary>TPM_SPEC_VERSION this engine follows: Library 1.59 (TPM_PT_REVISION = 159).</summary>
    public const uint SpecRevision = 159;

    /// <summary>Library 1.59 was published on 2019-11-08: day 312 of 2019.</summary>
    public const uint SpecDayOfYear = 312;
    public const uint SpecYear = 2019;

    static uint Chars(string s)
    {
        uint v = 0;
        for (int i = 0; i < 4; i++) v = (v << 8) | (i < s.Length ? (byte)s[i] : 0u);
        return v;
    }

    /// <summary>
    /// A fixed property (Part 2 §6.13 PT_FIXED group) or one of the variable properties nobody else
    /// owns; null if this TPM does not report it. Manufacturer "VTPM", vendor strings "VtpmStack".
    /// </summary>
    public static uint? Fixed(Tpm2Engine tpm, TpmPt pt) => pt switch
    {
        TpmPt.FamilyIndicator => Chars("2.0"),
        TpmPt.Level => 0,
        TpmPt.Revision => SpecRevision,
        TpmPt.DayOfYear => SpecDayOfYear,
        TpmPt.Year => SpecYear,
        TpmPt.Manufacturer => Chars("VTPM"),
        TpmPt.VendorString1 => Chars("Vtpm"),
        TpmPt.VendorString2 => Chars("Stac"),
        TpmPt.VendorString3 => Chars("k"),
        TpmPt.VendorString4 => 0,
        TpmPt.VendorTpmType => 1,
        TpmPt.FirmwareVersion1 => 0x00010000,
        TpmPt.FirmwareVersion2 => 0,
        TpmPt.InputBuffer => 1024,
        TpmPt.HrTransientMin => ObjectSubsystem.Slots,
        TpmPt.HrPersistentMin => 7,
        TpmPt.HrLoadedMin => 3,
        TpmPt.ActiveSessionsMax => 64,
        TpmPt.PcrCount => PcrSubsystem.PcrCount,
        TpmPt.PcrSelectMin => PcrSubsystem.SelectSize,
        TpmPt.ContextGapMax => 0xFFFF,
        TpmPt.NvCountersMax => 0,
        TpmPt.NvIndexMax => 2048,
        TpmPt.Memory => 0x6,
        TpmPt.ClockUpdate => 0x1000,
        TpmPt.ContextHash => (uint)Crypto.Tickets.TicketHashAlg,
        TpmPt.ContextSym => (uint)TpmAlgId.Aes,
        TpmPt.ContextSymSize => 256,
        TpmPt.OrderlyCount => 0xFF,
        TpmPt.MaxCommandSize => (uint)tpm.Options.MaxCommandSize,
        TpmPt.MaxResponseSize => (uint)tpm.Options.MaxResponseSize,
        TpmPt.MaxDigest => Crypto.TpmHash.MaxDigestSize,
        TpmPt.PsFamilyIndicator => 1,
        TpmPt.PsLevel => 0,
        TpmPt.PsRevision => 105,
        TpmPt.SplitMax => 0,
        TpmPt.TotalCommands => (uint)CommandTable.All.Count,
        TpmPt.LibraryCommands => (uint)CommandTable.All.Count,
        TpmPt.VendorCommands => 0,
        TpmPt.NvBufferMax => 1024,
        TpmPt.Modes => 0,
        TpmPt.MaxCapBuffer => MaxCapBuffer,
        TpmPt.AlgorithmSet => 0,
        TpmPt.LoadedCurves => 0,
        TpmPt.AuditCounter0 => 0,
        TpmPt.AuditCounter1 => 0,
        _ => null,
    };

    /// <summary>Every TPM_PT tag of the fixed and variable groups, in order.</summary>
    public static readonly TpmPt[] PropertyTags = BuildTags();

    static TpmPt[] BuildTags()
    {
        var tags = new List<TpmPt>();
        for (uint p = (uint)TpmPt.Fixed; p <= (uint)TpmPt.MaxCapBuffer; p++) tags.Add((TpmPt)p);
        for (uint p = (uint)TpmPt.Var; p <= (uint)TpmPt.AuditCounter1; p++) tags.Add((TpmPt)p);
        return [.. tags];
    }

    /// <summary>A property's value: the owning subsystem's answer first, then the fixed table.</summary>
    public static uint? Property(Tpm2Engine tpm, TpmPt pt)
    {
        var subsystems = tpm.Subsystems;
        for (int i = 0; i < subsystems.Count; i++)
            if (subsystems[i].TryGetProperty(pt, out uint v)) return v;
        return Fixed(tpm, pt);
    }

    /// <summary>The permanent handles this TPM implements (TPM_CAP_HANDLES, TPM_HT_PERMANENT).</summary>
    public static readonly uint[] PermanentHandles =
    [
        (uint)TpmRh.Owner, (uint)TpmRh.Null, (uint)TpmRh.Pw, (uint)TpmRh.Lockout,
        (uint)TpmRh.Endorsement, (uint)TpmRh.Platform, (uint)TpmRh.PlatformNv,
    ];
}
