using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// NIST SP 800-90A rev.1 §10.2 CTR_DRBG with AES-256 and the block cipher derivation function
/// (§10.3.2 Block_Cipher_df), the DRBG TPM 2.0 Part 1 §11.4.10 describes. The derivation function is
/// used (rather than the "full entropy" variant) because TPM2_StirRandom's additional input is up to
/// 128 bytes of arbitrary, caller-chosen data, longer than seedlen; with the df any length is reduced
/// to seedlen the way SP 800-90A specifies instead of an ad-hoc fold. The block cipher is .NET's AES
/// (OpenSSL); only the DRBG construction is written here.
/// </summary>
public sealed class CtrDrbg : IDisposable
{
    /// <summary>keylen for AES-256.</summary>
    public const int KeyLength = 32;

    /// <summary>blocklen (outlen) of AES.</summary>
    public const int BlockLength = 16;

    /// <summary>seedlen = keylen + blocklen (SP 800-90A Table 3).</summary>
    public const int SeedLength = KeyLength + BlockLength;

    /// <summary>Largest request per Generate call: 2^19 bits (SP 800-90A Table 3, max_number_of_bits_per_request).</summary>
    public const int MaxBytesPerRequest = 1 << 16;

    readonly byte[] _key = new byte[KeyLength];
    readonly byte[] _v = new byte[BlockLength];
    readonly Aes _aes = Aes.Create();

    /// <summary>reseed_counter: Generate calls since the last (re)seed.</summary>
    public ulong ReseedCounter { get; private set; }

    /// <summary>Instantiate (§10.2.1.3.2): seed_material = df(entropy || nonce || personalization).</summary>
    public void Instantiate(ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> personalization)
    {
        byte[] input = Concat(entropy, nonce, personalization);
        Span<byte> seed = stackalloc byte[SeedLength];
        DerivationFunction(input, seed);
        CryptographicOperations.ZeroMemory(input);
        Array.Clear(_key);
        Array.Clear(_v);
        _aes.Key = _key;
        Update(seed);
        CryptographicOperations.ZeroMemory(seed);
        ReseedCounter = 1;
    }

    /// <summary>Reseed (§10.2.1.4.2): seed_material = df(entropy || additional_input).</summary>
    public void Reseed(ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> additionalInput)
    {
        byte[] input = Concat(entropy, additionalInput, default);
        Span<byte> seed = stackalloc byte[SeedLength];
        DerivationFunction(input, seed);
        CryptographicOperations.ZeroMemory(input);
        Update(seed);
        CryptographicOperations.ZeroMemory(seed);
        ReseedCounter = 1;
    }

    /// <summary>Generate (§10.2.1.5.2) with optional additional input; at most <see cref="MaxBytesPerRequest"/> bytes.</summary>
    public void Generate(Span<byte> output, ReadOnlySpan<byte> additionalInput = default)
    {
        if (output.Length > MaxBytesPerRequest) throw new ArgumentOutOfRangeException(nameof(output), "request larger than the DRBG's maximum");
        Span<byte> additional = stackalloc byte[SeedLength];
        additional.Clear();
        if (!additionalInput.IsEmpty)
        {
            DerivationFunction(additionalInput, additional);
            Update(additional);
        }
        // The output blocks E(K, V+1..V+n) and the following Update's E(K, V+n+1..V+n+3) use the same key,
        // so one ECB call over consecutive counter blocks computes both (a TPM-sized request costs one call).
        int outBlocks = (output.Length + BlockLength - 1) / BlockLength;
        int total = outBlocks * BlockLength + SeedLength;
        byte[]? rented = null;
        Span<byte> stream = total <= 1024 ? stackalloc byte[total] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(total)).AsSpan(0, total);
        for (int i = 0; i < total; i += BlockLength)
        {
            Increment(_v);
            _v.CopyTo(stream[i..]);
        }
        _aes.EncryptEcb(stream, stream, PaddingMode.None);
        stream[..output.Length].CopyTo(output);
        // CTR_DRBG_Update(additional, K, V) with the blocks already encrypted.
        var temp = stream[(outBlocks * BlockLength)..];
        for (int i = 0; i < SeedLength; i++) temp[i] ^= additional[i];
        SetKeyAndV(temp);
        CryptographicOperations.ZeroMemory(stream);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        ReseedCounter++;
    }

    /// <summary>CTR_DRBG_Update (§10.2.1.2): temp = E(K, V+1) || E(K, V+2) || ...; (K, V) = temp ⊕ provided_data.</summary>
    void Update(ReadOnlySpan<byte> providedData)
    {
        Span<byte> temp = stackalloc byte[SeedLength];
        for (int i = 0; i < SeedLength; i += BlockLength)
        {
            Increment(_v);
            _v.CopyTo(temp[i..]);
        }
        _aes.EncryptEcb(temp, temp, PaddingMode.None);
        for (int i = 0; i < SeedLength; i++) temp[i] ^= providedData[i];
        SetKeyAndV(temp);
        CryptographicOperations.ZeroMemory(temp);
    }

    /// <summary>(K, V) from seedlen bytes; the cipher is re-keyed once here, not on every use.</summary>
    void SetKeyAndV(ReadOnlySpan<byte> seed)
    {
        seed[..KeyLength].CopyTo(_key);
        seed[KeyLength..SeedLength].CopyTo(_v);
        _aes.Key = _key;
    }

    /// <summary>V = (V + 1) mod 2^blocklen, big-endian.</summary>
    static void Increment(Span<byte> v)
    {
        for (int i = v.Length - 1; i >= 0; i--)
        {
            if (++v[i] != 0) return;
        }
    }

    /// <summary>Block_Cipher_df (§10.3.2) with AES-256, returning <paramref name="output"/>.Length bytes.</summary>
    public static void DerivationFunction(ReadOnlySpan<byte> input, Span<byte> output)
    {
        // S = L || N || input_string || 0x80, padded with zeros to a multiple of outlen.
        int sLength = 8 + input.Length + 1;
        sLength = (sLength + BlockLength - 1) / BlockLength * BlockLength;
        byte[] ivAndS = new byte[BlockLength + sLength];
        var s = ivAndS.AsSpan(BlockLength);
        BinaryPrimitives.WriteUInt32BigEndian(s, (uint)input.Length);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], (uint)output.Length);
        input.CopyTo(s[8..]);
        s[8 + input.Length] = 0x80;

        using var aes = Aes.Create();
        // K = leftmost keylen bits of 0x00010203...1F.
        byte[] k = new byte[KeyLength];
        for (int i = 0; i < KeyLength; i++) k[i] = (byte)i;
        aes.Key = k;
        Span<byte> temp = stackalloc byte[SeedLength];
        Span<byte> zeroIv = stackalloc byte[BlockLength];
        zeroIv.Clear();
        byte[] cbc = new byte[ivAndS.Length];
        for (int i = 0, off = 0; off < SeedLength; i++, off += BlockLength)
        {
            // BCC(K, IV || S): the CBC-MAC of IV || S, i.e. the last block of a zero-IV CBC encryption.
            ivAndS.AsSpan(0, BlockLength).Clear();
            BinaryPrimitives.WriteUInt32BigEndian(ivAndS, (uint)i);
            aes.EncryptCbc(ivAndS, zeroIv, cbc, PaddingMode.None);
            cbc.AsSpan(cbc.Length - BlockLength).CopyTo(temp[off..]);
        }
        aes.Key = temp[..KeyLength].ToArray();
        Span<byte> x = stackalloc byte[BlockLength];
        temp.Slice(KeyLength, BlockLength).CopyTo(x);
        for (int off = 0; off < output.Length; off += BlockLength)
        {
            aes.EncryptEcb(x, x, PaddingMode.None);
            x[..Math.Min(BlockLength, output.Length - off)].CopyTo(output[off..]);
        }
        CryptographicOperations.ZeroMemory(ivAndS);
        CryptographicOperations.ZeroMemory(cbc);
        CryptographicOperations.ZeroMemory(temp);
        CryptographicOperations.ZeroMemory(x);
    }

    static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        var r = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(r);
        b.CopyTo(r.AsSpan(a.Length));
        c.CopyTo(r.AsSpan(a.Length + b.Length));
        return r;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        CryptographicOperations.ZeroMemory(_v);
        _aes.Dispose();
    }
}
