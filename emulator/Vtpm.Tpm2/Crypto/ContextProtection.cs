using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// The protection of a saved context (Part 1 §30.3): its state encrypted with AES-256-CFB under
/// KDFa(SHA-512, proof of its hierarchy, "CONTEXT", sequence, handle), and an integrity HMAC under the proof over
/// what must not change — a per-reset value for contexts that a TPM Reset invalidates (sessions), the sequence,
/// the saved handle, the hierarchy and the encrypted state.
/// </summary>
public static class ContextProtection
{
    public const int KeyBits = 256;
    public const TpmAlgId Hash = TpmAlgId.Sha512;

    public static void Crypt(byte[] proof, ulong sequence, uint handle, Span<byte> data, bool encrypt)
    {
        Span<byte> seq = stackalloc byte[8];
        Span<byte> h = stackalloc byte[4];
        BinaryPrimitives.WriteUInt64BigEndian(seq, sequence);
        BinaryPrimitives.WriteUInt32BigEndian(h, handle);
        var keyAndIv = Kdf.KdfA(Hash, proof, "CONTEXT", seq, h, KeyBits + 128);
        AesCfb.Transform(keyAndIv.AsSpan(0, KeyBits / 8), keyAndIv.AsSpan(KeyBits / 8, 16), data, encrypt);
        CryptographicOperations.ZeroMemory(keyAndIv);
    }

    public static byte[] Integrity(byte[] proof, ReadOnlySpan<byte> resetValue, ulong sequence, uint handle, uint hierarchy, ReadOnlySpan<byte> encrypted)
    {
        using var hmac = TpmHash.CreateIncrementalHmac(Hash, proof);
        Span<byte> b = stackalloc byte[8];
        hmac.AppendData(resetValue);
        BinaryPrimitives.WriteUInt64BigEndian(b, sequence);
        hmac.AppendData(b);
        BinaryPrimitives.WriteUInt32BigEndian(b, handle);
        hmac.AppendData(b[..4]);
        BinaryPrimitives.WriteUInt32BigEndian(b, hierarchy);
        hmac.AppendData(b[..4]);
        hmac.AppendData(encrypted);
        return hmac.GetHashAndReset();
    }
}
