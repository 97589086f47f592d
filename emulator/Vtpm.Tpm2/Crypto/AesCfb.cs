using System.Security.Cryptography;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// AES in CFB mode with 128-bit feedback over data of any length, as the TPM uses it for parameter encryption,
/// protected storage, saved contexts and TPM2_EncryptDecrypt: a partial last block uses only the first bytes of its
/// keystream, so the data is padded to whole blocks with zeros, transformed, and cut back to its length.
/// </summary>
public static class AesCfb
{
    /// <summary>Encrypts or decrypts <paramref name="data"/> in place.</summary>
    public static void Transform(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data, bool encrypt)
    {
        if (data.IsEmpty) return;
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        int padded = (data.Length + 15) / 16 * 16;
        var buffer = new byte[padded];
        data.CopyTo(buffer);
        var output = encrypt ? aes.EncryptCfb(buffer, iv, PaddingMode.None, 128) : aes.DecryptCfb(buffer, iv, PaddingMode.None, 128);
        output.AsSpan(0, data.Length).CopyTo(data);
        CryptographicOperations.ZeroMemory(buffer);
        CryptographicOperations.ZeroMemory(output);
    }
}
