using System.Buffers.Binary;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Benchmarks;

/// <summary>The command byte strings the benchmarks send (built once, reused).</summary>
public static class Commands
{
    public static byte[] Startup() => Frame(TpmCc.Startup, w => w.AddRange([0, 0]));

    public static byte[] GetRandom(ushort n) => Frame(TpmCc.GetRandom, w => w.AddRange([(byte)(n >> 8), (byte)n]));

    /// <summary>PCR_Extend of PCR <paramref name="pcr"/> with one SHA-256 digest, empty password session.</summary>
    public static byte[] PcrExtendSha256(uint pcr, byte[] digest)
    {
        var b = new List<byte> { 0x80, 0x02, 0, 0, 0, 0 };
        AddU32(b, (uint)TpmCc.PcrExtend);
        AddU32(b, pcr);
        AddU32(b, 9);                  // authorizationSize
        AddU32(b, (uint)TpmRh.Pw);     // TPM_RS_PW
        b.AddRange([0, 0, 1, 0, 0]);   // empty nonce, continueSession, empty password
        AddU32(b, 1);
        b.AddRange([0, (byte)TpmAlgId.Sha256]);
        b.AddRange(digest);
        return Finish(b);
    }

    /// <summary>TPM2_Hash of <paramref name="data"/> with SHA-256 and the NULL hierarchy.</summary>
    public static byte[] HashSha256(byte[] data) => Frame(TpmCc.Hash, w =>
    {
        w.AddRange([(byte)(data.Length >> 8), (byte)data.Length]);
        w.AddRange(data);
        w.AddRange([0, (byte)TpmAlgId.Sha256]);
        AddU32(w, (uint)TpmRh.Null);
    });

    static byte[] Frame(TpmCc cc, Action<List<byte>> parameters)
    {
        var b = new List<byte> { 0x80, 0x01, 0, 0, 0, 0 };
        AddU32(b, (uint)cc);
        parameters(b);
        return Finish(b);
    }

    static void AddU32(List<byte> b, uint v) => b.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);

    static byte[] Finish(List<byte> b)
    {
        var a = b.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(2), (uint)a.Length);
        return a;
    }

    public static uint Rc(ReadOnlySpan<byte> response) => BinaryPrimitives.ReadUInt32BigEndian(response[6..]);
}
