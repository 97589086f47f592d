using Org.BouncyCastle.Math;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// RSA key pairs from a deterministic stream (a primary seed's <see cref="KdfStream"/>, or the DRBG for ordinary
/// keys): two primes of half the modulus size with their top two bits set (so n has exactly the asked size), found
/// by an incremental search from a stream-drawn start, sieved by small primes, then Miller-Rabin with fixed bases
/// (FIPS 186-5 §B.3: the candidates are random, so fixed bases are as good as random ones). The same stream gives
/// the same key, whatever the library version: the search is ours, BouncyCastle only does the arithmetic.
/// </summary>
public static class RsaKeyGeneration
{
    /// <summary>The TPM's default public exponent (Part 2 §12.2.3.5: exponent 0 means 2^16 + 1).</summary>
    public const uint DefaultExponent = 65537;

    static readonly int[] SmallPrimes = BuildSmallPrimes(2000);

    // Miller-Rabin bases: the first primes. With a random candidate of 512+ bits, 8 rounds leave an error far
    // below 2^-100 (FIPS 186-5 Table B.1 asks 4–5 rounds at these sizes after a probabilistic search).
    static readonly BigInteger[] Bases = [.. new[] { 2, 3, 5, 7, 11, 13, 17, 19 }.Select(b => BigInteger.ValueOf(b))];

    /// <summary>A key pair: the modulus, the two primes (p &gt; q) and the public exponent.</summary>
    public readonly record struct KeyPair(BigInteger Modulus, BigInteger P, BigInteger Q, BigInteger Exponent);

    public static KeyPair Generate(KdfStream stream, int bits, uint exponent)
    {
        var e = BigInteger.ValueOf(exponent == 0 ? DefaultExponent : exponent);
        int half = bits / 2;
        // FIPS 186-5 §A.1.3: |p − q| > 2^(nlen/2 − 100).
        var minDistance = BigInteger.One.ShiftLeft(half - 100);
        while (true)
        {
            var p = Prime(stream, half, e);
            var q = Prime(stream, half, e);
            if (p.Subtract(q).Abs().CompareTo(minDistance) <= 0) continue;
            if (p.CompareTo(q) < 0) (p, q) = (q, p);
            var n = p.Multiply(q);
            if (n.BitLength != bits) continue;
            return new KeyPair(n, p, q, e);
        }
    }

    /// <summary>The private exponent and CRT values of a key pair.</summary>
    public static (BigInteger D, BigInteger DP, BigInteger DQ, BigInteger QInv) Private(in KeyPair k)
    {
        var p1 = k.P.Subtract(BigInteger.One);
        var q1 = k.Q.Subtract(BigInteger.One);
        var lcm = p1.Divide(p1.Gcd(q1)).Multiply(q1);
        var d = k.Exponent.ModInverse(lcm);
        return (d, d.Mod(p1), d.Mod(q1), k.Q.ModInverse(k.P));
    }

    /// <summary>Rebuilds the pair from the public modulus and one prime (what a TPM object's sensitive area holds).</summary>
    public static KeyPair FromPrime(BigInteger modulus, BigInteger prime, uint exponent)
    {
        var e = BigInteger.ValueOf(exponent == 0 ? DefaultExponent : exponent);
        var other = modulus.Divide(prime);
        if (!other.Multiply(prime).Equals(modulus)) throw new ArgumentException("the prime does not divide the modulus");
        return prime.CompareTo(other) > 0 ? new KeyPair(modulus, prime, other, e) : new KeyPair(modulus, other, prime, e);
    }

    static BigInteger Prime(KdfStream stream, int bits, BigInteger e)
    {
        var start = stream.Next(bits / 8);
        start[0] |= 0xC0;
        start[^1] |= 1;
        var candidate = new BigInteger(1, start);
        // Residues of the start by each small prime, advanced by 2 per step: the sieve costs no big division.
        var residues = new int[SmallPrimes.Length];
        for (int i = 0; i < SmallPrimes.Length; i++) residues[i] = candidate.Mod(BigInteger.ValueOf(SmallPrimes[i])).IntValue;
        for (int step = 0; ; step++)
        {
            bool divisible = false;
            for (int i = 0; i < SmallPrimes.Length; i++)
            {
                if ((residues[i] + 2 * step) % SmallPrimes[i] == 0)
                {
                    divisible = true;
                    break;
                }
            }
            if (divisible) continue;
            var c = candidate.Add(BigInteger.ValueOf(2L * step));
            if (c.BitLength != bits) break; // ran past the size: draw a new start
            if (!c.Subtract(BigInteger.One).Gcd(e).Equals(BigInteger.One)) continue;
            if (IsProbablePrime(c)) return c;
        }
        return Prime(stream, bits, e);
    }

    static bool IsProbablePrime(BigInteger n)
    {
        var nMinus1 = n.Subtract(BigInteger.One);
        int s = nMinus1.GetLowestSetBit();
        var d = nMinus1.ShiftRight(s);
        foreach (var a in Bases)
        {
            var x = a.ModPow(d, n);
            if (x.Equals(BigInteger.One) || x.Equals(nMinus1)) continue;
            bool composite = true;
            for (int r = 1; r < s; r++)
            {
                x = x.ModPow(BigInteger.Two, n);
                if (x.Equals(nMinus1))
                {
                    composite = false;
                    break;
                }
            }
            if (composite) return false;
        }
        return true;
    }

    static int[] BuildSmallPrimes(int limit)
    {
        var sieve = new bool[limit];
        var primes = new List<int>();
        for (int i = 3; i < limit; i += 2)
        {
            if (sieve[i]) continue;
            primes.Add(i);
            for (int j = i * i; j < limit; j += 2 * i) sieve[j] = true;
        }
        return [.. primes];
    }
}
