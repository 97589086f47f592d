using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
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
        int bytes = key.Public.Parameters.RsaDetail.KeyBits / 8;
        var pub = RsaPublic(key);
        var parameters = new RSAParameters { Modulus = EccCurves.ToFixed(pub.Modulus, bytes), Exponent = pub.Exponent.ToByteArrayUnsigned() };
        if (withPrivate)
        {
            var k = RsaPrivate(key);
            parameters.D = EccCurves.ToFixed(k.Exponent, bytes);
            parameters.P = EccCurves.ToFixed(k.P, bytes / 2);
            parameters.Q = EccCurves.ToFixed(k.Q, bytes / 2);
            parameters.DP = EccCurves.ToFixed(k.DP, bytes / 2);
            parameters.DQ = EccCurves.ToFixed(k.DQ, bytes / 2);
            parameters.InverseQ = EccCurves.ToFixed(k.QInv, bytes / 2);
        }
        var rsa = RSA.Create();
        rsa.ImportParameters(parameters);
        return rsa;
    }

    /// <summary>The public key as BouncyCastle parameters (exponent 0 in the public area means 2^16 + 1).</summary>
    public static RsaKeyParameters RsaPublic(KeyObject key)
    {
        uint e = key.Public.Parameters.RsaDetail.Exponent;
        return new RsaKeyParameters(false, new BigInteger(1, key.Public.Unique.Rsa.ToArray()), BigInteger.ValueOf(e == 0 ? RsaKeyGeneration.DefaultExponent : e));
    }

    /// <summary>The private key rebuilt from the modulus and the prime the sensitive area holds.</summary>
    public static RsaPrivateCrtKeyParameters RsaPrivate(KeyObject key)
    {
        var n = new BigInteger(1, key.Public.Unique.Rsa.ToArray());
        var pair = RsaKeyGeneration.FromPrime(n, new BigInteger(1, key.Sensitive.Sensitive.Rsa.ToArray()), key.Public.Parameters.RsaDetail.Exponent);
        var (d, dp, dq, qInv) = RsaKeyGeneration.Private(pair);
        return new RsaPrivateCrtKeyParameters(n, pair.Exponent, d, pair.P, pair.Q, dp, dq, qInv);
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
