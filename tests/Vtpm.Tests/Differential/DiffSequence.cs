using System.Buffers.Binary;
using Vtpm.Tests.Support;

namespace Vtpm.Tests.Differential;

/// <summary>How much of two responses must be equal.</summary>
public enum Match
{
    /// <summary>Tag and response code only (e.g. context blobs whose size is implementation-specific).</summary>
    Rc,
    /// <summary>Tag, size and response code (random values, nonces, clocks: same shape, different content).</summary>
    Header,
    /// <summary>Every byte: the spec fixes the whole response.</summary>
    Exact,
    /// <summary>Header plus every byte from <see cref="DiffStep.From"/> on (skips e.g. pcrUpdateCounter).</summary>
    From,
    /// <summary>Header plus bytes [<see cref="DiffStep.From"/>, <see cref="DiffStep.To"/>) (e.g. a digest before a ticket HMAC).</summary>
    Range,
}

/// <summary>Per-side state a step may use to build its command (handles returned by earlier steps).</summary>
public sealed class DiffContext
{
    /// <summary>The handle returned by the latest step flagged <see cref="DiffStep.ReturnsHandle"/>.</summary>
    public uint Handle { get; set; }
}

/// <summary>
/// One command of a sequence, or a power cycle (<see cref="PowerCycle"/>: CMD_INIT on the control channel).
/// <see cref="Expect"/> is the response code the spec requires (checked against swtpm now, and vtpm later);
/// <see cref="How"/> says which part of the response is deterministic and must match byte for byte.
/// </summary>
public sealed record DiffStep(string Name, Func<DiffContext, byte[]>? Build, uint Expect, Match How = Match.Exact, int From = 0, int To = 0, bool ReturnsHandle = false)
{
    public bool PowerCycle => Build is null;

    /// <summary>
    /// Set where swtpm 0.7.1 (libtpms 0.9) knowingly deviates from Part 3: the response code swtpm gives.
    /// The swtpm check then expects this value, and vtpm is held to <see cref="Expect"/> (the spec) instead
    /// of being compared with swtpm.
    /// </summary>
    public uint? SwtpmRc { get; init; }

    public static DiffStep Of(string name, Cmd cmd, uint expect, Match how = Match.Exact, int from = 0, int to = 0) =>
        new(name, _ => cmd.Build(), expect, how, from, to);

    public static DiffStep Of(string name, byte[] raw, uint expect, Match how = Match.Exact) => new(name, _ => raw, expect, how);

    public static DiffStep Cycle() => new("_TPM_Init (CMD_INIT)", null, 0);

    /// <summary>Returns the response code in a response.</summary>
    public static uint RcOf(byte[] response) => response.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) : uint.MaxValue;

    /// <summary>Null when the two responses agree as <see cref="How"/> demands; otherwise what differs.</summary>
    public string? Difference(byte[] a, byte[] b)
    {
        if (a.Length < 10 || b.Length < 10) return "short response";
        if (!a.AsSpan(0, 2).SequenceEqual(b.AsSpan(0, 2))) return "tag differs";
        if (RcOf(a) != RcOf(b)) return $"response code 0x{RcOf(a):X} vs 0x{RcOf(b):X}";
        if (How == Match.Rc) return null;
        if (a.Length != b.Length) return $"size {a.Length} vs {b.Length}";
        return How switch
        {
            Match.Exact when !a.AsSpan().SequenceEqual(b) => "bytes differ",
            Match.From when !a.AsSpan(Math.Min(From, a.Length)).SequenceEqual(b.AsSpan(Math.Min(From, b.Length))) => $"bytes from {From} differ",
            Match.Range when a.Length >= To && !a.AsSpan(From, To - From).SequenceEqual(b.AsSpan(From, To - From)) => $"bytes [{From},{To}) differ",
            _ => null,
        };
    }
}

/// <summary>A named list of steps sent to a fresh TPM (started with not-need-init, without startup).</summary>
public sealed record DiffSequence(string Name, string Why, IReadOnlyList<DiffStep> Steps)
{
    public override string ToString() => Name;
}
