using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Fuzz;

/// <summary>One generated input.</summary>
/// <param name="Number">Position in the generated stream (reproduce with the same seed).</param>
/// <param name="Kind">Which mutation made it (reported on failure).</param>
/// <param name="Bytes">The TPM command bytes.</param>
/// <param name="MustFail">The command is malformed for certain: the answer must be an error code.</param>
/// <param name="FrameBroken">The header's size field does not match the bytes (or there is no full header):
/// a stream server may wait for more input or disconnect.</param>
public sealed record FuzzCase(int Number, string Kind, byte[] Bytes, bool MustFail, bool FrameBroken)
{
    public override string ToString() => $"#{Number} {Kind}{(MustFail ? " (must fail)" : "")}: {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 96)))}{(Bytes.Length > 96 ? "…" : "")} ({Bytes.Length} bytes)";
}

/// <summary>
/// A reproducible stream of malformed TPM 2.0 commands (seeded <see cref="System.Random"/>): truncations, size fields
/// that lie, wrong tags, unknown command codes, hostile TPM2B lengths and TPML counts inside otherwise valid
/// commands, broken session areas, bit flips and random bytes.
/// </summary>
public static class MalformedCommands
{
    /// <summary>A valid command and the offsets of its length-prefixed fields (TPM2B sizes, TPML counts, authorizationSize).</summary>
    sealed record Template(string Name, byte[] Bytes, int[] U16Lengths, int[] U32Counts);

    static readonly Template[] Templates = BuildTemplates();

    static Template[] BuildTemplates()
    {
        var digest = new byte[32];
        // Offsets: header is 10 bytes; handles follow; with a password session the area is
        // authorizationSize(4) + handle(4) + nonce size(2) + attributes(1) + hmac size(2) + hmac.
        return
        [
            new("GetRandom", Cmd.Of(TpmCc.GetRandom).U16(16).Build(), [], []),
            new("StirRandom", Cmd.Of(TpmCc.StirRandom).B2(new byte[20]).Build(), [10], []),
            new("Hash", Cmd.Of(TpmCc.Hash).B2("abcdef"u8).U16((ushort)TpmAlgId.Sha256).U32((uint)TpmRh.Null).Build(), [10], []),
            new("PCR_Read", Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 0, 1).Build(), [], [10]),
            // PCR_Extend: handle 10, auth area 14..27 (authSize 14, nonce size 22, hmac size 25), digests count 27.
            new("PCR_Extend", Cmd.Of(TpmCc.PcrExtend).Handle(5u).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(digest).Build(), [22, 25], [14, 27]),
            new("PCR_Event", Cmd.Of(TpmCc.PcrEvent).Handle(16u).Password().B2("event"u8).Build(), [22, 25, 27], [14]),
            new("GetCapability", Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.TpmProperties).U32(0x100).U32(8).Build(), [], []),
            new("NV_ReadPublic", Cmd.Of(TpmCc.NvReadPublic).Handle(0x01500016u).Build(), [], []),
            // NV_DefineSpace: handle 10, auth 14..27, auth TPM2B at 27 (size 0), TPM2B_NV_PUBLIC size at 29, authPolicy size at 41.
            new("NV_DefineSpace", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2("")
                .U16(14).U32(0x01500017).U16((ushort)TpmAlgId.Sha256).U32(0x00060006).U16(0).U16(8).Build(), [22, 25, 27, 29, 41], [14]),
            // NV_Write: handles 10, 14; auth 18..31; data TPM2B at 31.
            new("NV_Write", Cmd.Of(TpmCc.NvWrite).Handle(0x01500016u).Handle(0x01500016u).Password().B2(new byte[8]).U16(0).Build(), [26, 29, 31], [18]),
            new("NV_Read", Cmd.Of(TpmCc.NvRead).Handle(0x01500016u).Handle(0x01500016u).Password("pw").U16(8).U16(0).Build(), [26, 29], [18]),
            new("StartAuthSession", Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2("")
                .U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256).Build(), [18, 36], []),
            new("HashSequenceStart", Cmd.Of(TpmCc.HashSequenceStart).B2("seqauth").U16((ushort)TpmAlgId.Sha256).Build(), [10], []),
            new("TestParms", Cmd.Of(TpmCc.TestParms).U16((ushort)TpmAlgId.Symcipher).U16((ushort)TpmAlgId.Aes).U16(128).U16((ushort)TpmAlgId.Cfb).Build(), [], []),
            new("ReadClock", Cmd.Of(TpmCc.ReadClock).Build(), [], []),
            new("DictionaryAttackParameters", Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password("x").U32(3).U32(1000).U32(1000).Build(), [22, 25], [14]),
        ];
    }

    static readonly HashSet<uint> KnownCommandCodes = [.. Enum.GetValues<TpmCc>().Select(c => (uint)c)];

    /// <summary>The cases, in order, for a seed.</summary>
    public static IEnumerable<FuzzCase> Generate(int seed, int count)
    {
        var rng = new System.Random(seed);
        for (int i = 0; i < count; i++)
        {
            var t = Templates[rng.Next(Templates.Length)];
            yield return (i % 10) switch
            {
                0 => Truncated(i, rng, t),
                1 => LyingSize(i, rng, t),
                2 => WrongTag(i, rng, t),
                3 => UnknownCommand(i, rng, t),
                4 or 5 => HostileLength(i, rng, t),
                6 => BrokenSessionArea(i, rng, t),
                7 => BitFlips(i, rng, t),
                8 => RandomBytes(i, rng),
                _ => Spliced(i, rng, t),
            };
        }
    }

    static void SetSize(byte[] b)
    {
        if (b.Length >= 6) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), (uint)b.Length);
    }

    /// <summary>The command cut short, with the size field telling the truth about the cut (so only the content is short).</summary>
    static FuzzCase Truncated(int n, System.Random rng, Template t)
    {
        int len = rng.Next(0, t.Bytes.Length);
        var b = t.Bytes[..len];
        SetSize(b);
        return new(n, $"truncated {t.Name} to {len}", b, true, len < 10);
    }

    /// <summary>The size field claims more or fewer bytes than were sent.</summary>
    static FuzzCase LyingSize(int n, System.Random rng, Template t)
    {
        var b = (byte[])t.Bytes.Clone();
        uint[] choices = [uint.MaxValue, 0x80000000, 0x10000, 4097, (uint)b.Length + 1, (uint)b.Length + (uint)rng.Next(2, 200), (uint)rng.Next(0, 10), (uint)b.Length - 1];
        uint size = choices[rng.Next(choices.Length)];
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), size);
        return new(n, $"{t.Name} with size field {size}", b, true, true);
    }

    static FuzzCase WrongTag(int n, System.Random rng, Template t)
    {
        var b = (byte[])t.Bytes.Clone();
        ushort tag;
        do { tag = (ushort)(rng.Next(3) == 0 ? 0x00C1 + rng.Next(3) : rng.Next(0x10000)); } while (tag is 0x8001 or 0x8002);
        BinaryPrimitives.WriteUInt16BigEndian(b, tag);
        return new(n, $"{t.Name} with tag 0x{tag:X4}", b, true, false);
    }

    static FuzzCase UnknownCommand(int n, System.Random rng, Template t)
    {
        var b = (byte[])t.Bytes.Clone();
        uint cc;
        do
        {
            cc = rng.Next(3) switch
            {
                0 => (uint)rng.Next(0x11F, 0x1A0),           // gaps inside the TPM 2.0 range
                1 => 0x20000000u | (uint)rng.Next(0x10000),   // vendor-specific
                _ => (uint)rng.NextInt64(0, 1L << 32),
            };
        } while (KnownCommandCodes.Contains(cc));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), cc);
        return new(n, $"{t.Name} as command 0x{cc:X8}", b, true, false);
    }

    /// <summary>A TPM2B size or TPML count inside a well-framed command set to a value that does not fit.</summary>
    static FuzzCase HostileLength(int n, System.Random rng, Template t)
    {
        var b = (byte[])t.Bytes.Clone();
        int fields = t.U16Lengths.Length + t.U32Counts.Length;
        if (fields == 0) return RandomBytes(n, rng);
        int pick = rng.Next(fields);
        if (pick < t.U16Lengths.Length)
        {
            int off = t.U16Lengths[pick];
            ushort old = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off));
            int remaining = b.Length - off - 2;
            ushort[] choices = [0xFFFF, 0x8000, 0x0401, 0x0100, (ushort)(remaining + 1), (ushort)(remaining + rng.Next(2, 64)), (ushort)(old + 1)];
            ushort v = choices[rng.Next(choices.Length)];
            if (v <= remaining) v = (ushort)(remaining + 1);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(off), v);
            return new(n, $"{t.Name} with a 16-bit length at {off} = {v}", b, true, false);
        }
        int o32 = t.U32Counts[pick - t.U16Lengths.Length];
        uint[] counts = [uint.MaxValue, 0x80000000, 0x10000, 1000, 17, (uint)(b.Length - o32)];
        uint c = counts[rng.Next(counts.Length)];
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(o32), c);
        return new(n, $"{t.Name} with a 32-bit count/size at {o32} = {c}", b, true, false);
    }

    /// <summary>Sessions tag with an authorization area that is absent, short, or names a bogus session.</summary>
    static FuzzCase BrokenSessionArea(int n, System.Random rng, Template t)
    {
        // Header(10) + no handles: put a sessions tag on GetRandom with various broken areas.
        var area = rng.Next(4) switch
        {
            0 => new byte[] { 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1, 0 },                                  // authSize 9 but entry needs 9+
            1 => new byte[] { 0, 0, 0, 9, 0x40, 0, 0, 0x77, 0, 0, 1, 0, 0 },                            // unknown session handle
            2 => new byte[] { 0, 0, 0, 11, 0x40, 0, 0, 9, 0, 5, 1, 0, 0, 0, 0 },                        // nonce size overruns
            _ => new byte[] { 0xFF, 0xFF, 0xFF, 0xF0, 0x40, 0, 0, 9, 0, 0, 1, 0, 0 },                   // absurd authSize
        };
        byte[] b = [0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x7B, .. area, 0, 16];
        SetSize(b);
        return new(n, $"GetRandom with broken session area #{area[7]:X2}", b, true, false);
    }

    static FuzzCase BitFlips(int n, System.Random rng, Template t)
    {
        var b = (byte[])t.Bytes.Clone();
        int flips = rng.Next(1, 4);
        for (int k = 0; k < flips; k++)
        {
            int pos = rng.Next(b.Length);
            if (pos is >= 2 and < 6) pos = 6 + rng.Next(b.Length - 6); // keep the frame intact
            b[pos] ^= (byte)(1 << rng.Next(8));
        }
        return new(n, $"{t.Name} with {flips} bit flips", b, false, false);
    }

    static FuzzCase RandomBytes(int n, System.Random rng)
    {
        int len = rng.Next(0, 400);
        var b = new byte[len];
        rng.NextBytes(b);
        bool framed = len >= 10 && rng.Next(2) == 0;
        if (framed)
        {
            b[0] = 0x80;
            b[1] = (byte)(rng.Next(2) == 0 ? 0x01 : 0x02);
            SetSize(b);
        }
        bool broken = len < 10 || BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(2)) != len;
        return new(n, $"random {len} bytes{(framed ? " with a valid frame" : "")}", b, false, broken);
    }

    /// <summary>A valid header and handles followed by the parameters of another command.</summary>
    static FuzzCase Spliced(int n, System.Random rng, Template t)
    {
        var other = Templates[rng.Next(Templates.Length)];
        int cut = Math.Min(t.Bytes.Length, 10 + rng.Next(0, 8));
        int from = Math.Min(other.Bytes.Length, 10 + rng.Next(0, 8));
        byte[] b = [.. t.Bytes[..cut], .. other.Bytes[from..]];
        SetSize(b);
        return new(n, $"{t.Name} header with {other.Name} body", b, false, false);
    }

    /// <summary>
    /// Checks a response: a whole TPM response whose size field matches, a known response tag, an error
    /// response carrying no parameters (Part 1 §18.5), and an error code if the input was certainly malformed.
    /// Returns null if acceptable, else why not.
    /// </summary>
    public static string? Judge(FuzzCase c, ReadOnlySpan<byte> response)
    {
        if (response.Length < 10) return $"response of {response.Length} bytes";
        ushort tag = BinaryPrimitives.ReadUInt16BigEndian(response);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(response[2..]);
        uint rc = BinaryPrimitives.ReadUInt32BigEndian(response[6..]);
        if (size != response.Length) return $"size field {size} but {response.Length} bytes";
        // TPM_ST_RSP_COMMAND (0x00C4) is the reference answer to a TPM 1.2-tagged command (TPM_RC_BAD_TAG).
        if (tag is not (0x8001 or 0x8002) && !(tag == 0x00C4 && rc == 0x1E)) return $"response tag 0x{tag:X4}";
        if (rc != 0 && response.Length != 10) return $"error 0x{rc:X} with {response.Length - 10} parameter bytes";
        if (c.MustFail && rc == 0) return "malformed command succeeded";
        return null;
    }
}
