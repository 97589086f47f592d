using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// Session-based parameter encryption (Part 1 §21): the first TPM2B parameter of a command or response
/// is protected with XOR obfuscation (§21.2) or AES in CFB mode (§21.3), keyed from the session.
/// nonceNewer is nonceCaller for a command and the new nonceTPM for a response; nonceOlder the other one.
/// </summary>
public static class ParameterCipher
{
    /// <summary>Part 1 §21.2: data XOR KDFa(hashAlg, key, "XOR", nonceNewer, nonceOlder, size·8). Its own inverse.</summary>
    public static void Xor(TpmAlgId hashAlg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, Span<byte> data)
    {
        if (data.IsEmpty) return;
        var mask = Kdf.KdfA(hashAlg, key, "XOR", nonceNewer, nonceOlder, data.Length * 8);
        for (int i = 0; i < data.Length; i++) data[i] ^= mask[i];
        CryptographicOperations.ZeroMemory(mask);
    }

    /// <summary>
    /// Part 1 §21.3: AES-CFB (128-bit feedback) with key and IV from
    /// KDFa(hashAlg, key, "CFB", nonceNewer, nonceOlder, keyBits + 128).
    /// </summary>
    public static void Cfb(TpmAlgId hashAlg, int keyBits, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, Span<byte> data, bool encrypt)
    {
        if (data.IsEmpty) return;
        var keyAndIv = Kdf.KdfA(hashAlg, key, "CFB", nonceNewer, nonceOlder, keyBits + 128);
        AesCfb.Transform(keyAndIv.AsSpan(0, keyBits / 8), keyAndIv.AsSpan(keyBits / 8, 16), data, encrypt);
        CryptographicOperations.ZeroMemory(keyAndIv);
    }
}
