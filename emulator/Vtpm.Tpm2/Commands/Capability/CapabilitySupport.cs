using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Capability;

/// <summary>The fixed answers of TPM2_GetCapability: fixed TPM properties, limits.</summary>
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
