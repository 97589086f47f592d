using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// A hash or event sequence object (Part 1 §32.2.2, Part 3 §17): created by TPM2_HashSequenceStart,
/// fed by TPM2_SequenceUpdate, ended by SequenceComplete / EventSequenceComplete. An event sequence
/// (hashAlg TPM_ALG_NULL) hashes with every implemented algorithm at once.
/// </summary>
public sealed class SequenceObject : IDisposable
{
    readonly IncrementalHash[] _hashes;
    readonly byte[] _firstOctets = new byte[4];
    int _firstCount;

    // Bit i: _hashes[i] holds data not yet taken by Complete (it must be reset before the object is reused).
    int _pending;

    public SequenceObject(TpmAlgId hashAlg, ReadOnlySpan<byte> authValue)
    {
        HashAlg = hashAlg;
        AuthValue = authValue.ToArray();
        Algorithms = hashAlg == TpmAlgId.Null ? TpmHash.Implemented : [hashAlg];
        _hashes = [.. Algorithms.Select(TpmHash.CreateIncremental)];
    }

    /// <summary>
    /// Makes a flushed object a new, empty sequence of the same algorithm with <paramref name="authValue"/>,
    /// so object memory does not allocate hash contexts per sequence (ObjectSubsystem keeps flushed ones).
    /// </summary>
    public void Reuse(ReadOnlySpan<byte> authValue)
    {
        Span<byte> discard = stackalloc byte[TpmHash.MaxDigestSize];
        for (int i = 0; i < _hashes.Length; i++)
        {
            if ((_pending & (1 << i)) != 0) _hashes[i].TryGetHashAndReset(discard, out _);
        }
        CryptographicOperations.ZeroMemory(discard);
        _pending = 0;
        _firstCount = 0;
        Array.Clear(_firstOctets);
        CryptographicOperations.ZeroMemory(AuthValue);
        AuthValue = authValue.Length == AuthValue.Length ? AuthValue : new byte[authValue.Length];
        authValue.CopyTo(AuthValue);
    }

    /// <summary>The sequence's hash; TPM_ALG_NULL for an event sequence.</summary>
    public TpmAlgId HashAlg { get; }

    public bool IsEventSequence => HashAlg == TpmAlgId.Null;

    public byte[] AuthValue { get; private set; }

    /// <summary>The algorithms this sequence hashes with (one, or all implemented for an event sequence).</summary>
    public IReadOnlyList<TpmAlgId> Algorithms { get; }

    /// <summary>
    /// Part 2 §10.7.5: a hash check ticket is produced only if the data did not start with
    /// TPM_GENERATED_VALUE (else a caller could get a TPM-made-looking structure "validated").
    /// Data shorter than four octets cannot start with it.
    /// </summary>
    public bool TicketSafe => _firstCount < 4 || BinaryPrimitives.ReadUInt32BigEndian(_firstOctets) != Tickets.TpmGeneratedValue;

    public void Update(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(4 - _firstCount, data.Length);
        data[..n].CopyTo(_firstOctets.AsSpan(_firstCount));
        _firstCount += n;
        foreach (var h in _hashes) h.AppendData(data);
        _pending = (1 << _hashes.Length) - 1;
    }

    /// <summary>The digest of everything hashed so far with one of <see cref="Algorithms"/>.</summary>
    public byte[] Complete(TpmAlgId alg)
    {
        var digest = new byte[TpmHash.DigestSize(alg)];
        Complete(alg, digest);
        return digest;
    }

    /// <summary>The same into <paramref name="destination"/>; returns the digest size.</summary>
    public int Complete(TpmAlgId alg, Span<byte> destination)
    {
        for (int i = 0; i < Algorithms.Count; i++)
        {
            if (Algorithms[i] != alg) continue;
            _pending &= ~(1 << i);
            return _hashes[i].GetHashAndReset(destination);
        }
        throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an algorithm of this sequence");
    }

    public void Dispose()
    {
        foreach (var h in _hashes) h.Dispose();
        CryptographicOperations.ZeroMemory(AuthValue);
    }
}
