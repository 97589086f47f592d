using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>The hash algorithms this TPM implements, on .NET's OpenSSL-backed primitives.</summary>
public static class TpmHash
{
    public const int MaxDigestSize = 64;

    public static readonly TpmAlgId[] Implemented = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512];

    public static bool IsImplemented(TpmAlgId alg) => DigestSize(alg) != 0;

    /// <summary>Digest size in bytes, or 0 for an algorithm that is not an implemented hash.</summary>
    public static int DigestSize(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => 20,
        TpmAlgId.Sha256 => 32,
        TpmAlgId.Sha384 => 48,
        TpmAlgId.Sha512 => 64,
        _ => 0,
    };

    /// <summary>Block size in bytes (for HMAC key handling), 0 if not implemented.</summary>
    public static int BlockSize(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 or TpmAlgId.Sha256 => 64,
        TpmAlgId.Sha384 or TpmAlgId.Sha512 => 128,
        _ => 0,
    };

    public static HashAlgorithmName Name(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => HashAlgorithmName.SHA1,
        TpmAlgId.Sha256 => HashAlgorithmName.SHA256,
        TpmAlgId.Sha384 => HashAlgorithmName.SHA384,
        TpmAlgId.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an implemented hash"),
    };

    /// <summary>Hashes <paramref name="data"/> into <paramref name="destination"/>; returns the digest size.</summary>
    public static int Hash(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmAlgId.Sha1 => SHA1.HashData(data, destination),
        TpmAlgId.Sha256 => SHA256.HashData(data, destination),
        TpmAlgId.Sha384 => SHA384.HashData(data, destination),
        TpmAlgId.Sha512 => SHA512.HashData(data, destination),
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an implemented hash"),
    };

    public static byte[] Hash(TpmAlgId alg, ReadOnlySpan<byte> data)
    {
        var d = new byte[DigestSize(alg)];
        Hash(alg, data, d);
        return d;
    }

    public static int Hmac(TpmAlgId alg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmAlgId.Sha1 => HMACSHA1.HashData(key, data, destination),
        TpmAlgId.Sha256 => HMACSHA256.HashData(key, data, destination),
        TpmAlgId.Sha384 => HMACSHA384.HashData(key, data, destination),
        TpmAlgId.Sha512 => HMACSHA512.HashData(key, data, destination),
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an implemented hash"),
    };

    public static IncrementalHash CreateIncremental(TpmAlgId alg) => IncrementalHash.CreateHash(Name(alg));

    public static IncrementalHash CreateIncrementalHmac(TpmAlgId alg, ReadOnlySpan<byte> key) => IncrementalHash.CreateHMAC(Name(alg), key);
}
