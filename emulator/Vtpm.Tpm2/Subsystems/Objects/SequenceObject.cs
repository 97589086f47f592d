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

    public SequenceObject(TpmAlgId hashAlg, ReadOnlySpan<byte> authValue)
    {
        HashAlg = hashAlg;
        AuthValue = authValue.ToArray();
        Algorithms = hashAlg == TpmAlgId.Null ? TpmHash.Implemented : [hashAlg];
        _hashes = [.. Algorithms.Select(TpmHash.CreateIncremental)];
    }

    /// <summary>The sequence's hash; TPM_ALG_NULL for an event sequence.</summary>
    public TpmAlgId HashAlg { get; }

    public bool IsEventSequence => HashAlg == TpmAlgId.Null;

    public byte[] AuthValue { get; }

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
    }

    /// <summary>The digest of everything hashed so far with one of <see cref="Algorithms"/>.</summary>
    public byte[] Complete(TpmAlgId alg)
    {
        for (int i = 0; i < Algorithms.Count; i++)
            if (Algorithms[i] == alg) return _hashes[i].GetHashAndReset();
        throw new ArgumentOutOfRangeException(nameof(alg), alg, "not an algorithm of this sequence");
    }

    public void Dispose()
    {
        foreach (var h in _hashes) h.Dispose();
        CryptographicOperations.ZeroMemory(AuthValue);
    }
}
