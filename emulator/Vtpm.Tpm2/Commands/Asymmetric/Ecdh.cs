using Org.BouncyCastle.Math;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Asymmetric;

/// <summary>
/// TPM 2.0 Part 3 §14.4 TPM2_ECDH_KeyGen (an ephemeral key and the shared point with a loaded ECC key's public part)
/// and §14.5 TPM2_ECDH_ZGen (the shared point of a loaded ECC decryption key and another party's public point), on
/// BouncyCastle's point arithmetic. Response codes: TPM_RC_KEY (not an ECC key, handle 1), TPM_RC_ATTRIBUTES (ZGen:
/// not an unrestricted decryption key, handle 1), TPM_RC_SCHEME (ZGen: a key scheme other than ECDH, handle 1),
/// TPM_RC_ECC_POINT (inPoint not on the key's curve, parameter 1).
/// </summary>
public static class Ecdh
{
    public static TpmRc KeyGen(Tpm2Engine tpm, ref CommandFrame f, in EcdhKeyGenIn input, ref EcdhKeyGenOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || key.Public.Type != TpmAlgId.Ecc) return TpmRc.Key.ForHandle(1);
        var curve = key.Public.Parameters.EccDetail.CurveID;
        if (!EccCurves.IsImplemented(curve)) return TpmRc.Curve.ForHandle(1);
        Span<byte> entropy = stackalloc byte[64];
        tpm.Random.Generate(entropy);
        using var stream = new KdfStream(TpmAlgId.Sha256, entropy, "ECDH", []);
        var (d, q) = EccCurves.Generate(stream, curve);
        var z = PublicPoint(key, curve).Multiply(d).Normalize();
        output.PubPoint.Point = Point(q, curve);
        output.ZPoint.Point = Point(z, curve);
        return TpmRc.Success;
    }

    public static TpmRc ZGen(Tpm2Engine tpm, ref CommandFrame f, in EcdhZGenIn input, ref EcdhZGenOut output)
    {
        if (tpm.Objects.GetKey(input.KeyHandle) is not { } key || key.Public.Type != TpmAlgId.Ecc) return TpmRc.Key.ForHandle(1);
        if (!key.Has(TpmaObject.Decrypt) || key.Has(TpmaObject.Restricted) || key.IsPublicOnly) return TpmRc.Attributes.ForHandle(1);
        var scheme = key.Public.Parameters.EccDetail.Scheme.Scheme;
        if (scheme is not (TpmAlgId.Null or TpmAlgId.Ecdh)) return TpmRc.Scheme.ForHandle(1);
        var curve = key.Public.Parameters.EccDetail.CurveID;
        if (!EccCurves.IsImplemented(curve)) return TpmRc.Curve.ForHandle(1);
        var parameters = EccCurves.Get(curve);
        Org.BouncyCastle.Math.EC.ECPoint p;
        try
        {
            p = parameters.Curve.CreatePoint(new BigInteger(1, input.InPoint.Point.X.ToArray()), new BigInteger(1, input.InPoint.Point.Y.ToArray()));
            if (!p.IsValid()) return TpmRc.EccPoint.ForParameter(1);
        }
        catch (ArgumentException)
        {
            return TpmRc.EccPoint.ForParameter(1);
        }
        var d = new BigInteger(1, key.Sensitive.Sensitive.Ecc.ToArray());
        var z = p.Multiply(d).Normalize();
        if (z.IsInfinity) return TpmRc.NoResult;
        output.OutPoint.Point = Point(z, curve);
        return TpmRc.Success;
    }

    static Org.BouncyCastle.Math.EC.ECPoint PublicPoint(KeyObject key, TpmEccCurve curve) =>
        EccCurves.Get(curve).Curve.CreatePoint(new BigInteger(1, key.Public.Unique.Ecc.X.ToArray()), new BigInteger(1, key.Public.Unique.Ecc.Y.ToArray()));

    static TpmsEccPoint Point(Org.BouncyCastle.Math.EC.ECPoint p, TpmEccCurve curve)
    {
        int size = EccCurves.CoordinateSize(curve);
        return new TpmsEccPoint
        {
            X = Tpm2bEccParameter.From(EccCurves.ToFixed(p.AffineXCoord.ToBigInteger(), size)),
            Y = Tpm2bEccParameter.From(EccCurves.ToFixed(p.AffineYCoord.ToBigInteger(), size)),
        };
    }
}
