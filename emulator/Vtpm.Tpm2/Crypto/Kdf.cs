using System.Buffers.Binary;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>The TPM's key derivation functions (Part 1 §11.4.10).</summary>
public static class Kdf
{
    /// <summary>
    /// Part 1 §11.4.10.2 KDFa, SP 800-108 counter mode with HMAC: for i = 1, 2, ... the HMAC of
    /// [i]32 || Label || 00h || Context-U || Context-V || [bits]32 under <paramref name="key"/>,
    /// concatenated and cut to <paramref name="bits"/> (the label's terminating zero is added
    /// here unless the label already ends in one).
    /// </summary>
    public static byte[] KdfA(TpmAlgId hashAlg, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits)
    {
        if (bits <= 0) return [];
        int digestSize = TpmHash.DigestSize(hashAlg);
        int bytes = (bits + 7) / 8;
        var result = new byte[bytes];
        int labelLength = label.Length + (label.EndsWith('\0') ? 0 : 1);
        var data = new byte[4 + labelLength + contextU.Length + contextV.Length + 4];
        int p = 4;
        foreach (char c in label) data[p++] = (byte)c;
        if (!label.EndsWith('\0')) data[p++] = 0;
        contextU.CopyTo(data.AsSpan(p));
        p += contextU.Length;
        contextV.CopyTo(data.AsSpan(p));
        p += contextV.Length;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(p), (uint)bits);
        Span<byte> block = stackalloc byte[TpmHash.MaxDigestSize];
        uint counter = 1;
        for (int done = 0; done < bytes; done += digestSize, counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(data, counter);
            TpmHash.Hmac(hashAlg, key, data, block);
            block[..Math.Min(digestSize, bytes - done)].CopyTo(result.AsSpan(done));
        }
        // A bit count that is not a whole number of octets keeps the low-order bits of the first octet.
        if (bits % 8 != 0) result[0] &= (byte)((1 << (bits % 8)) - 1);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(block);
        return result;
    }
}
