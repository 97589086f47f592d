using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// One reusable incremental hash per implemented algorithm, for digests over several pieces that run on
/// every command (cpHash, rpHash: Part 1 §18.7–18.8). Creating an IncrementalHash allocates; appending
/// and finishing into a span does not. Owned by one engine and used under its lock, one digest at a time.
/// </summary>
public sealed class HashContexts : IDisposable
{
    readonly IncrementalHash?[] _hashes = new IncrementalHash?[TpmHash.Implemented.Length];

    /// <summary>Starts a digest: the returned context is empty; finish it with <see cref="Finish"/>.</summary>
    public IncrementalHash Start(TpmAlgId alg)
    {
        int i = alg switch
        {
            TpmAlgId.Sha1 => 0,
            TpmAlgId.Sha256 => 1,
            TpmAlgId.Sha384 => 2,
            TpmAlgId.Sha512 => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an implemented hash"),
        };
        return _hashes[i] ??= TpmHash.CreateIncremental(alg);
    }

    /// <summary>Writes the digest into <paramref name="destination"/> and leaves the context empty; returns the digest size.</summary>
    public static int Finish(IncrementalHash hash, Span<byte> destination) => hash.GetHashAndReset(destination);

    /// <summary>After an exception between Start and Finish: empties the context so the next digest starts clean.</summary>
    public static void Abandon(IncrementalHash hash)
    {
        Span<byte> discard = stackalloc byte[TpmHash.MaxDigestSize];
        hash.TryGetHashAndReset(discard, out _);
    }

    public void Dispose()
    {
        foreach (var h in _hashes) h?.Dispose();
    }
}
