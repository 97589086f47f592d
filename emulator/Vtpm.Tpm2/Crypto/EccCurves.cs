using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// The curves this TPM implements (NIST P-256, P-384, P-521) and key pairs on them. Private keys come from a
/// deterministic stream by rejection sampling (FIPS 186-5 §A.4.2: draw the order's length, keep a value in
/// [1, n − 1]), so a primary seed and template always give the same key.
/// </summary>
public static class EccCurves
{
    public static readonly TpmEccCurve[] Implemented = [TpmEccCurve.NistP256, TpmEccCurve.NistP384, TpmEccCurve.NistP521];

    static readonly Dictionary<TpmEccCurve, X9ECParameters> Parameters = new()
    {
        [TpmEccCurve.NistP256] = ECNamedCurveTable.GetByName("P-256"),
        [TpmEccCurve.NistP384] = ECNamedCurveTable.GetByName("P-384"),
        [TpmEccCurve.NistP521] = ECNamedCurveTable.GetByName("P-521"),
    };

    public static bool IsImplemented(TpmEccCurve curve) => Parameters.ContainsKey(curve);

    public static X9ECParameters Get(TpmEccCurve curve) =>
        Parameters.TryGetValue(curve, out var p) ? p : throw new ArgumentOutOfRangeException(nameof(curve), curve, "not an implemented curve");

    /// <summary>The size in bytes of a coordinate (and of a private key) on the curve.</summary>
    public static int CoordinateSize(TpmEccCurve curve) => (Get(curve).Curve.FieldSize + 7) / 8;

    /// <summary>A private key d in [1, n − 1] and its public point Q = dG, drawn from <paramref name="stream"/>.</summary>
    public static (BigInteger D, ECPoint Q) Generate(KdfStream stream, TpmEccCurve curve)
    {
        var p = Get(curve);
        int orderBits = p.N.BitLength;
        int bytes = (orderBits + 7) / 8;
        while (true)
        {
            var raw = stream.Next(bytes);
            int excess = bytes * 8 - orderBits;
            if (excess > 0) raw[0] &= (byte)(0xFF >> excess);
            var d = new BigInteger(1, raw);
            if (d.SignValue == 0 || d.CompareTo(p.N) >= 0) continue;
            return (d, p.G.Multiply(d).Normalize());
        }
    }

    /// <summary>A coordinate or scalar as the TPM carries it: big-endian, padded to the curve's size.</summary>
    public static byte[] ToFixed(BigInteger v, int size)
    {
        var b = v.ToByteArrayUnsigned();
        return b.Length == size ? b : [.. new byte[size - b.Length], .. b];
    }
}
