using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// A deterministic byte stream: KDFa's counter mode (Part 1 §11.4.10.2) left open-ended — block i is
/// HMAC(key, [i]32 || label || 00h || context || [0]32) — so key generation can draw as many candidate bytes as it
/// needs from a primary seed. The [bits] field is 0 because the length is not known in advance; the stream is the
/// TPM's own DRBG for primary objects (Part 1 §27.1: how a primary key is derived from the seed is the TPM's choice,
/// as long as the same seed and template give the same key).
/// </summary>
public sealed class KdfStream : IDisposable
{
    readonly TpmAlgId _hash;
    readonly byte[] _key;
    readonly byte[] _message;
    readonly byte[] _block;
    int _available;
    uint _counter;

    public KdfStream(TpmAlgId hash, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> context)
    {
        _hash = hash;
        _key = key.ToArray();
        _message = new byte[4 + label.Length + 1 + context.Length + 4];
        for (int i = 0; i < label.Length; i++) _message[4 + i] = (byte)label[i];
        context.CopyTo(_message.AsSpan(4 + label.Length + 1));
        _block = new byte[TpmHash.DigestSize(hash)];
    }

    /// <summary>Fills <paramref name="output"/> with the next bytes of the stream.</summary>
    public void Fill(Span<byte> output)
    {
        while (!output.IsEmpty)
        {
            if (_available == 0)
            {
                BinaryPrimitives.WriteUInt32BigEndian(_message, ++_counter);
                TpmHash.Hmac(_hash, _key, _message, _block);
                _available = _block.Length;
            }
            int n = Math.Min(_available, output.Length);
            _block.AsSpan(_block.Length - _available, n).CopyTo(output);
            _available -= n;
            output = output[n..];
        }
    }

    /// <summary>The next <paramref name="count"/> bytes.</summary>
    public byte[] Next(int count)
    {
        var b = new byte[count];
        Fill(b);
        return b;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        CryptographicOperations.ZeroMemory(_block);
    }
}
