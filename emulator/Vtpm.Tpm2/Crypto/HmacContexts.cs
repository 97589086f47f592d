using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// HMACs whose key repeats from command to command (a session's sessionKey || authValue, a hierarchy's
/// proof for tickets) on kept HMAC contexts: the key schedule (ipad/opad state) is made once per key,
/// not on every HMAC, and computing allocates nothing. A few keys are kept, the oldest replaced first.
/// Owned by one engine and used under its lock.
/// </summary>
public sealed class HmacContexts : IDisposable
{
    const int Capacity = 8;

    sealed class Entry(TpmAlgId alg, ReadOnlySpan<byte> key)
    {
        public readonly TpmAlgId Alg = alg;
        public readonly byte[] Key = key.ToArray();
        public readonly IncrementalHash Hmac = TpmHash.CreateIncrementalHmac(alg, key);

        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(Key);
            Hmac.Dispose();
        }
    }

    readonly Entry?[] _entries = new Entry?[Capacity];
    int _next;

    /// <summary>HMAC_alg(key, message) into <paramref name="destination"/>; returns the digest size.</summary>
    public int Compute(TpmAlgId alg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> destination)
    {
        var hmac = Find(alg, key);
        hmac.AppendData(message);
        return hmac.GetHashAndReset(destination);
    }

    IncrementalHash Find(TpmAlgId alg, ReadOnlySpan<byte> key)
    {
        foreach (var e in _entries)
        {
            if (e is not null && e.Alg == alg && e.Key.Length == key.Length && CryptographicOperations.FixedTimeEquals(e.Key, key))
                return e.Hmac;
        }
        _entries[_next]?.Dispose();
        var entry = new Entry(alg, key);
        _entries[_next] = entry;
        _next = (_next + 1) % Capacity;
        return entry.Hmac;
    }

    /// <summary>Forgets every key (their copies are wiped).</summary>
    public void Clear()
    {
        for (int i = 0; i < Capacity; i++)
        {
            _entries[i]?.Dispose();
            _entries[i] = null;
        }
        _next = 0;
    }

    public void Dispose() => Clear();
}
