using System.Buffers.Binary;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>Tickets (Part 2 §10.7): HMACs with a hierarchy's proof value over what the TPM vouches for.</summary>
public static class Tickets
{
    /// <summary>TPM_GENERATED_VALUE (Part 2 §6.2): 0xff 'T' 'C' 'G'.</summary>
    public const uint TpmGeneratedValue = 0xFF544347;

    /// <summary>
    /// The hash of ticket HMACs: the context integrity hash (TPM_PT_CONTEXT_HASH), SHA-512 like the
    /// reference's and swtpm's CONTEXT_INTEGRITY_HASH_ALG.
    /// </summary>
    public const TpmAlgId TicketHashAlg = TpmAlgId.Sha512;

    /// <summary>Part 2 §10.7.5 TPMT_TK_HASHCHECK: hmac = HMAC(proof(hierarchy), TPM_ST_HASHCHECK || digest).</summary>
    /// <remarks>Into <paramref name="destination"/> (the ticket hash's digest size), on the engine's kept HMAC contexts; returns the bytes written.</remarks>
    public static int HashCheck(HmacContexts hmacs, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        Span<byte> data = stackalloc byte[2 + TpmHash.MaxDigestSize];
        BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)TpmSt.Hashcheck);
        digest.CopyTo(data[2..]);
        return hmacs.Compute(TicketHashAlg, proof, data[..(2 + digest.Length)], destination);
    }

    /// <summary>
    /// A ticket over two values (Part 2 §10.7.3 TPMT_TK_CREATION: name, creationHash; §10.7.4 TPMT_TK_VERIFIED: digest,
    /// keyName): HMAC(proof, tag || first || second) into <paramref name="destination"/>; returns the bytes written.
    /// </summary>
    public static int Compute(HmacContexts hmacs, ReadOnlySpan<byte> proof, TpmSt tag, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second,
        Span<byte> destination)
    {
        var message = new byte[2 + first.Length + second.Length];
        BinaryPrimitives.WriteUInt16BigEndian(message, (ushort)tag);
        first.CopyTo(message.AsSpan(2));
        second.CopyTo(message.AsSpan(2 + first.Length));
        return hmacs.Compute(TicketHashAlg, proof, message, destination);
    }
}
