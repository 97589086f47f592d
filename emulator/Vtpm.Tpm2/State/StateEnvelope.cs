using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Vtpm.Tpm2.State;

/// <summary>
/// The on-disk wrapping of one state blob. Layout (big-endian):
/// <code>
/// magic "VTPM" | u16 formatVersion | u16 minReaderVersion | u32 blobKind | u32 flags | u32 payloadLength
/// then, plain:     payload | SHA-256(header || payload)
///       encrypted: nonce[12] | ciphertext(payloadLength) | GCM tag[16]   (AES-256-GCM, AAD = header)
/// </code>
/// A reader refuses a blob whose minReaderVersion is newer than it understands, so a later format can stay
/// readable by old code only when it says so.
/// </summary>
public static class StateEnvelope
{
    public const ushort FormatVersion = 1;
    public const int HeaderSize = 20;
    const uint Magic = 0x5654504D; // "VTPM"
    const uint FlagEncrypted = 1;
    const int NonceSize = 12;
    const int TagSize = 16;
    const int DigestSize = 32;

    /// <summary>Wraps <paramref name="payload"/>; with a key the payload is encrypted (fresh random nonce per call).</summary>
    public static byte[] Seal(StateBlobKind kind, ReadOnlySpan<byte> payload, StateKey? key)
    {
        bool encrypted = key is not null;
        int total = HeaderSize + payload.Length + (encrypted ? NonceSize + TagSize : DigestSize);
        var blob = new byte[total];
        WriteHeader(blob, kind, encrypted ? FlagEncrypted : 0, payload.Length);
        var header = blob.AsSpan(0, HeaderSize);
        if (key is not null)
        {
            var nonce = blob.AsSpan(HeaderSize, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            var cipher = blob.AsSpan(HeaderSize + NonceSize, payload.Length);
            var tag = blob.AsSpan(HeaderSize + NonceSize + payload.Length, TagSize);
            using var gcm = new AesGcm(key.Bytes, TagSize);
            gcm.Encrypt(nonce, payload, cipher, tag, header);
        }
        else
        {
            payload.CopyTo(blob.AsSpan(HeaderSize));
            SHA256.HashData(blob.AsSpan(0, HeaderSize + payload.Length), blob.AsSpan(HeaderSize + payload.Length));
        }
        return blob;
    }

    /// <summary>Checks and unwraps a blob read from <paramref name="location"/> (named in every error).</summary>
    /// <exception cref="StateCorruptException">Bad magic, version, kind, length, digest or tag, or a key mismatch.</exception>
    public static byte[] Open(StateBlobKind kind, ReadOnlySpan<byte> blob, StateKey? key, string location)
    {
        if (blob.Length < HeaderSize) throw new StateCorruptException(location, $"truncated: {blob.Length} bytes, shorter than the {HeaderSize}-byte header");
        if (BinaryPrimitives.ReadUInt32BigEndian(blob) != Magic) throw new StateCorruptException(location, "not a vtpm state file (bad magic)");
        ushort minReader = BinaryPrimitives.ReadUInt16BigEndian(blob[6..]);
        if (minReader > FormatVersion)
            throw new StateCorruptException(location, $"written in format {BinaryPrimitives.ReadUInt16BigEndian(blob[4..])} which needs a reader of version {minReader}; this build reads version {FormatVersion}");
        uint storedKind = BinaryPrimitives.ReadUInt32BigEndian(blob[8..]);
        if (storedKind != (uint)kind) throw new StateCorruptException(location, $"holds blob kind {storedKind}, expected {(uint)kind} ({kind})");
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(blob[12..]);
        if ((flags & ~FlagEncrypted) != 0) throw new StateCorruptException(location, $"unknown flags 0x{flags:x}");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(blob[16..]);
        bool encrypted = (flags & FlagEncrypted) != 0;
        long expected = HeaderSize + (long)length + (encrypted ? NonceSize + TagSize : DigestSize);
        if (blob.Length != expected)
            throw new StateCorruptException(location, blob.Length < expected ? $"truncated: {blob.Length} bytes, expected {expected}" : $"{blob.Length - expected} trailing bytes");
        var header = blob[..HeaderSize];
        if (encrypted)
        {
            if (key is null) throw new StateCorruptException(location, "the file is encrypted but no key was given (--key)");
            var payload = new byte[length];
            try
            {
                using var gcm = new AesGcm(key.Bytes, TagSize);
                gcm.Decrypt(blob.Slice(HeaderSize, NonceSize), blob.Slice(HeaderSize + NonceSize, (int)length),
                    blob.Slice(HeaderSize + NonceSize + (int)length, TagSize), payload, header);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new StateCorruptException(location, "authentication failed (wrong key, or the file was modified)");
            }
            return payload;
        }
        if (key is not null) throw new StateCorruptException(location, "the file is not encrypted but a key was given; refusing to mix");
        Span<byte> digest = stackalloc byte[DigestSize];
        SHA256.HashData(blob[..(HeaderSize + (int)length)], digest);
        if (!CryptographicOperations.FixedTimeEquals(digest, blob.Slice(HeaderSize + (int)length, DigestSize)))
            throw new StateCorruptException(location, "integrity check failed (SHA-256 mismatch)");
        return blob.Slice(HeaderSize, (int)length).ToArray();
    }

    static void WriteHeader(Span<byte> b, StateBlobKind kind, uint flags, int length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, Magic);
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], FormatVersion);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], (uint)kind);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], flags);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], (uint)length);
    }
}

/// <summary>
/// The user's state-encryption key. Whatever its length (swtpm's aes-cbc keys are 16 bytes, aes-256-cbc
/// keys 32), the AES-256-GCM key is derived from it with HKDF-SHA256, so the raw key never touches data.
/// </summary>
public sealed class StateKey
{
    internal byte[] Bytes { get; }

    public StateKey(ReadOnlySpan<byte> userKey)
    {
        if (userKey.Length is not (16 or 32)) throw new ArgumentException($"a state key is 16 or 32 bytes, got {userKey.Length}", nameof(userKey));
        Bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, userKey.ToArray(), 32, salt: [], info: "vtpm state encryption v1"u8.ToArray());
    }
}
