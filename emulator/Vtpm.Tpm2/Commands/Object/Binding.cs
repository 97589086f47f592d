using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Object;

/// <summary>
/// Whether a public and a sensitive area belong together (Part 1 §27.3, TPM_RC_BINDING): the RSA prime divides the
/// modulus, the ECC public point is dG, and a KEYEDHASH or SYMCIPHER unique field is H(seedValue || sensitive).
/// </summary>
public static class Binding
{
    public static TpmRc Check(in TpmtPublic pub, in TpmtSensitive sensitive)
    {
        switch (pub.Type)
        {
            case TpmAlgId.Rsa:
            {
                var n = new Org.BouncyCastle.Math.BigInteger(1, pub.Unique.Rsa.ToArray());
                var p = new Org.BouncyCastle.Math.BigInteger(1, sensitive.Sensitive.Rsa.ToArray());
                if (p.SignValue == 0 || p.BitLength * 2 != pub.Parameters.RsaDetail.KeyBits || n.Mod(p).SignValue != 0) return TpmRc.Binding;
                return TpmRc.Success;
            }
            case TpmAlgId.Ecc:
            {
                var curve = pub.Parameters.EccDetail.CurveID;
                if (!EccCurves.IsImplemented(curve)) return TpmRc.Curve;
                var d = new Org.BouncyCastle.Math.BigInteger(1, sensitive.Sensitive.Ecc.ToArray());
                var q = EccCurves.Get(curve).G.Multiply(d).Normalize();
                int size = EccCurves.CoordinateSize(curve);
                bool same = EccCurves.ToFixed(q.AffineXCoord.ToBigInteger(), size).AsSpan().SequenceEqual(pub.Unique.Ecc.X.Span)
                    && EccCurves.ToFixed(q.AffineYCoord.ToBigInteger(), size).AsSpan().SequenceEqual(pub.Unique.Ecc.Y.Span);
                return same ? TpmRc.Success : TpmRc.Binding;
            }
            case TpmAlgId.Keyedhash:
            case TpmAlgId.Symcipher:
            {
                var secret = pub.Type == TpmAlgId.Keyedhash ? sensitive.Sensitive.Bits.Span : sensitive.Sensitive.Sym.Span;
                var unique = pub.Type == TpmAlgId.Keyedhash ? pub.Unique.KeyedHash.Span : pub.Unique.Sym.Span;
                return PrimaryKeyDerivation.UniqueOf(pub.NameAlg, sensitive.SeedValue.Span, secret).AsSpan().SequenceEqual(unique)
                    ? TpmRc.Success : TpmRc.Binding;
            }
            default:
                return TpmRc.Type;
        }
    }
}
