using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Pcr;

/// <summary>Command builders and response readers shared by the PCR, hash and capability tests.</summary>
internal static class PcrHelpers
{
    public static Cmd Extend(uint pcr, TpmAlgId alg, byte[] digest, string password = "") =>
        Cmd.Of(TpmCc.PcrExtend).Handle(pcr).Password(password).U32(1).U16((ushort)alg).Bytes(digest);

    /// <summary>PCR_Read of one PCR of one bank; returns the digest, or null if none came back.</summary>
    public static byte[]? Read(EngineHost h, TpmAlgId alg, int pcr)
    {
        var r = h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(alg, pcr));
        Assert.AreEqual(Wire.TpmRc.Success, r.Rc);
        var d = ParseRead(r.Parameters);
        return d.Digests.Count == 0 ? null : d.Digests[0];
    }

    public sealed record ReadResult(uint UpdateCounter, List<(ushort Alg, uint Mask)> Selections, List<byte[]> Digests);

    public static ReadResult ParseRead(byte[] p)
    {
        int o = 0;
        uint counter = U32(p, ref o);
        uint n = U32(p, ref o);
        var sel = new List<(ushort, uint)>();
        for (int i = 0; i < n; i++)
        {
            ushort alg = U16(p, ref o);
            int size = p[o++];
            uint mask = 0;
            for (int b = 0; b < size; b++) mask |= (uint)p[o++] << (8 * b);
            sel.Add((alg, mask));
        }
        uint dn = U32(p, ref o);
        var digests = new List<byte[]>();
        for (int i = 0; i < dn; i++)
        {
            int size = U16(p, ref o);
            digests.Add(p.AsSpan(o, size).ToArray());
            o += size;
        }
        Assert.AreEqual(p.Length, o);
        return new ReadResult(counter, sel, digests);
    }

    /// <summary>Parses a TPML_DIGEST_VALUES.</summary>
    public static List<(ushort Alg, byte[] Digest)> ParseDigestValues(byte[] p, ref int o)
    {
        uint n = U32(p, ref o);
        var list = new List<(ushort, byte[])>();
        for (int i = 0; i < n; i++)
        {
            ushort alg = U16(p, ref o);
            int size = alg switch { 0x4 => 20, 0xB => 32, 0xC => 48, 0xD => 64, _ => throw new AssertFailedException($"alg {alg:X}") };
            list.Add((alg, p.AsSpan(o, size).ToArray()));
            o += size;
        }
        return list;
    }

    public static uint U32(byte[] p, ref int o) { uint v = BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(o)); o += 4; return v; }
    public static ushort U16(byte[] p, ref int o) { ushort v = BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(o)); o += 2; return v; }

    public static byte[] Ones(int n) { var b = new byte[n]; Array.Fill(b, (byte)0xFF); return b; }

    /// <summary>Independent extend computation: H(old || digest).</summary>
    public static byte[] Sha256Extend(byte[] old, byte[] digest) => System.Security.Cryptography.SHA256.HashData([.. old, .. digest]);
}
