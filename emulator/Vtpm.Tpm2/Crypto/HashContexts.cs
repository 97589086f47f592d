using System.Security.Cryptography;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// One reusable incremental hash per implemented algorithm, for the digests that run on every command
/// (PCR extends, event digests, TPM2_Hash, cpHash and rpHash: Part 1 §17.2, §18.7–18.8). Creating an
/// IncrementalHash allocates; appending and finishing into a span does not, and skips the per-call setup
/// of the static one-shots (about a fifth of a short digest's cost here). Owned by one engine and used
/// under its lock, one digest at a time.
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

    /// <summary>H(<paramref name="data"/>) into <paramref name="destination"/>; returns the digest size.</summary>
    public int Digest(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination) => Digest(alg, data, default, destination);

    /// <summary>
    /// H(<paramref name="first"/> || <paramref name="second"/>) into <paramref name="destination"/>, which
    /// may overlap the inputs (PCR := H(PCR || digest)); returns the digest size.
    /// </summary>
    public int Digest(TpmAlgId alg, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        var h = Start(alg);
        try
        {
            h.AppendData(first);
            h.AppendData(second);
            return Finish(h, destination);
        }
        catch
        {
            Abandon(h);
            throw;
        }
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
