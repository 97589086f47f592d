using System.Security.Cryptography;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// A loaded object's key as a .NET (OpenSSL) key: RSA from the modulus and the prime its sensitive area holds (the
/// other values recomputed, Part 2 §11.2.4.4), ECC from the curve, public point and private scalar.
/// </summary>
public static class KeyMaterial
{
    public static RSA Rsa(KeyObject key, bool withPrivate)
    {
        ref readonly var pub = ref key.Public;
        int bytes = pub.Parameters.RsaDetail.KeyBits / 8;
        uint e = pub.Parameters.RsaDetail.Exponent == 0 ? RsaKeyGeneration.DefaultExponent : pub.Parameters.RsaDetail.Exponent;
        var exponent = EccCurves.ToFixed(Org.BouncyCastle.Math.BigInteger.ValueOf(e), e > 0xFFFFFF ? 4 : 3);
        var parameters = new RSAParameters { Modulus = pub.Unique.Rsa.ToArray(), Exponent = exponent };
        if (withPrivate)
        {
            var pair = RsaKeyGeneration.FromPrime(new Org.BouncyCastle.Math.BigInteger(1, parameters.Modulus),
                new Org.BouncyCastle.Math.BigInteger(1, key.Sensitive.Sensitive.Rsa.ToArray()), e);
            var (d, dp, dq, qInv) = RsaKeyGeneration.Private(pair);
            parameters.D = EccCurves.ToFixed(d, bytes);
            parameters.P = EccCurves.ToFixed(pair.P, bytes / 2);
            parameters.Q = EccCurves.ToFixed(pair.Q, bytes / 2);
            parameters.DP = EccCurves.ToFixed(dp, bytes / 2);
            parameters.DQ = EccCurves.ToFixed(dq, bytes / 2);
            parameters.InverseQ = EccCurves.ToFixed(qInv, bytes / 2);
        }
        var rsa = RSA.Create();
        rsa.ImportParameters(parameters);
        return rsa;
    }

    public static ECDsa Ecdsa(KeyObject key, bool withPrivate)
    {
        ref readonly var pub = ref key.Public;
        var parameters = new ECParameters
        {
            Curve = Curve(pub.Parameters.EccDetail.CurveID),
            Q = new ECPoint { X = pub.Unique.Ecc.X.ToArray(), Y = pub.Unique.Ecc.Y.ToArray() },
            D = withPrivate ? key.Sensitive.Sensitive.Ecc.ToArray() : null,
        };
        return ECDsa.Create(parameters);
    }

    public static ECCurve Curve(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP256 => ECCurve.NamedCurves.nistP256,
        TpmEccCurve.NistP384 => ECCurve.NamedCurves.nistP384,
        TpmEccCurve.NistP521 => ECCurve.NamedCurves.nistP521,
        _ => throw new ArgumentOutOfRangeException(nameof(curve), curve, "not an implemented curve"),
    };
}
