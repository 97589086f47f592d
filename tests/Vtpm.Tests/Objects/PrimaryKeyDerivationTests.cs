using System.Security.Cryptography;
using Vtpm.Tpm2.Crypto;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Objects;

/// <summary>
/// Primary keys derived from a hierarchy seed and a template (Part 1 §27.1): deterministic for one seed and
/// template, different for another seed or another unique field, and real keys — .NET (OpenSSL) signs and verifies
/// with them and refuses points that are not on the curve.
/// </summary>
[TestClass]
public sealed class PrimaryKeyDerivationTests
{
    static readonly byte[] Seed = SHA512.HashData("endorsement seed"u8);

    /// <summary>tpm2-tools' default RSA-2048 storage primary (restricted decrypt, AES-128-CFB).</summary>
    static TpmtPublic RsaTemplate()
    {
        var t = new TpmtPublic
        {
            Type = TpmAlgId.Rsa,
            NameAlg = TpmAlgId.Sha256,
            ObjectAttributes = TpmaObject.FixedTPM | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth
                | TpmaObject.Restricted | TpmaObject.Decrypt,
        };
        t.Parameters.RsaDetail.Symmetric.Algorithm = TpmAlgId.Aes;
        t.Parameters.RsaDetail.Symmetric.KeyBits.Aes = 128;
        t.Parameters.RsaDetail.Symmetric.Mode.Aes = TpmAlgId.Cfb;
        t.Parameters.RsaDetail.Scheme.Scheme = TpmAlgId.Null;
        t.Parameters.RsaDetail.KeyBits = 2048;
        return t;
    }

    static TpmtPublic EccSigningTemplate(TpmEccCurve curve)
    {
        var t = new TpmtPublic
        {
            Type = TpmAlgId.Ecc,
            NameAlg = TpmAlgId.Sha256,
            ObjectAttributes = TpmaObject.FixedTPM | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth | TpmaObject.Sign,
        };
        t.Parameters.EccDetail.Symmetric.Algorithm = TpmAlgId.Null;
        t.Parameters.EccDetail.Scheme.Scheme = TpmAlgId.Null;
        t.Parameters.EccDetail.CurveID = curve;
        t.Parameters.EccDetail.Kdf.Scheme = TpmAlgId.Null;
        return t;
    }

    static (TpmtPublic Public, TpmtSensitive Sensitive) Derive(byte[] seed, in TpmtPublic template, byte[]? data = null)
    {
        Assert.AreEqual(TpmRc.Success, PrimaryKeyDerivation.Derive(seed, template, "auth"u8, data ?? [], out var pub, out var sensitive));
        return (pub, sensitive);
    }

    [TestMethod]
    public void SameSeedAndTemplateGiveTheSameRsaKey()
    {
        var t = RsaTemplate();
        var a = Derive(Seed, t);
        var b = Derive(Seed, t);
        CollectionAssert.AreEqual(a.Public.Unique.Rsa.ToArray(), b.Public.Unique.Rsa.ToArray());
        CollectionAssert.AreEqual(a.Sensitive.Sensitive.Rsa.ToArray(), b.Sensitive.Sensitive.Rsa.ToArray());
        Assert.AreEqual(256, a.Public.Unique.Rsa.Size);
        Assert.AreEqual(128, a.Sensitive.Sensitive.Rsa.Size);
        Assert.AreEqual(32, a.Sensitive.SeedValue.Size, "a storage parent carries a seedValue of its nameAlg's size");
    }

    [TestMethod]
    public void AnotherSeedGivesAnotherKey()
    {
        var t = EccSigningTemplate(TpmEccCurve.NistP256);
        var a = Derive(Seed, t);
        var b = Derive(SHA512.HashData("after TPM2_Clear"u8), t);
        CollectionAssert.AreNotEqual(a.Public.Unique.Ecc.X.ToArray(), b.Public.Unique.Ecc.X.ToArray());
    }

    [TestMethod]
    public void TheTemplatesUniqueFieldSelectsAnotherKey()
    {
        var t = EccSigningTemplate(TpmEccCurve.NistP256);
        var a = Derive(Seed, t);
        t.Unique.Ecc.X = Tpm2bEccParameter.From("entropy"u8);
        var b = Derive(Seed, t);
        CollectionAssert.AreNotEqual(a.Sensitive.Sensitive.Ecc.ToArray(), b.Sensitive.Sensitive.Ecc.ToArray());
    }

    [TestMethod]
    public void DerivedRsaKeySignsAndOpenSslVerifies()
    {
        var (pub, sensitive) = Derive(Seed, RsaTemplate());
        var n = new Org.BouncyCastle.Math.BigInteger(1, pub.Unique.Rsa.ToArray());
        var pair = RsaKeyGeneration.FromPrime(n, new Org.BouncyCastle.Math.BigInteger(1, sensitive.Sensitive.Rsa.ToArray()), 0);
        var (d, dp, dq, qInv) = RsaKeyGeneration.Private(pair);
        int half = 128;
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = pub.Unique.Rsa.ToArray(),
            Exponent = [1, 0, 1],
            D = EccCurves.ToFixed(d, 256),
            P = EccCurves.ToFixed(pair.P, half),
            Q = EccCurves.ToFixed(pair.Q, half),
            DP = EccCurves.ToFixed(dp, half),
            DQ = EccCurves.ToFixed(dq, half),
            InverseQ = EccCurves.ToFixed(qInv, half),
        });
        var signature = rsa.SignData("message"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var verifier = RSA.Create();
        verifier.ImportParameters(new RSAParameters { Modulus = pub.Unique.Rsa.ToArray(), Exponent = [1, 0, 1] });
        Assert.IsTrue(verifier.VerifyData("message"u8.ToArray(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [TestMethod]
    [DataRow(TpmEccCurve.NistP256, "nistP256", 32)]
    [DataRow(TpmEccCurve.NistP384, "nistP384", 48)]
    [DataRow(TpmEccCurve.NistP521, "nistP521", 66)]
    public void DerivedEccKeyIsOnTheCurveAndSigns(TpmEccCurve curve, string oidName, int size)
    {
        var (pub, sensitive) = Derive(Seed, EccSigningTemplate(curve));
        Assert.AreEqual(size, pub.Unique.Ecc.X.Size);
        Assert.AreEqual(size, sensitive.Sensitive.Ecc.Size);
        var parameters = new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName(oidName),
            Q = new ECPoint { X = pub.Unique.Ecc.X.ToArray(), Y = pub.Unique.Ecc.Y.ToArray() },
            D = sensitive.Sensitive.Ecc.ToArray(),
        };
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportParameters(parameters); // OpenSSL checks that Q is on the curve and is dG
        var signature = ecdsa.SignData("message"u8.ToArray(), HashAlgorithmName.SHA256);
        using var verifier = ECDsa.Create(new ECParameters { Curve = parameters.Curve, Q = parameters.Q });
        Assert.IsTrue(verifier.VerifyData("message"u8.ToArray(), signature, HashAlgorithmName.SHA256));
    }

    [TestMethod]
    public void SealedDataObjectsUniqueIsTheHashOfSeedValueAndData()
    {
        var t = new TpmtPublic { Type = TpmAlgId.Keyedhash, NameAlg = TpmAlgId.Sha256, ObjectAttributes = TpmaObject.FixedTPM | TpmaObject.FixedParent | TpmaObject.UserWithAuth };
        t.Parameters.KeyedHashDetail.Scheme.Scheme = TpmAlgId.Null;
        var (pub, sensitive) = Derive(Seed, t, "secret"u8.ToArray());
        CollectionAssert.AreEqual("secret"u8.ToArray(), sensitive.Sensitive.Bits.ToArray());
        var expected = SHA256.HashData([.. sensitive.SeedValue.ToArray(), .. "secret"u8.ToArray()]);
        CollectionAssert.AreEqual(expected, pub.Unique.KeyedHash.ToArray());
    }

    [TestMethod]
    public void KdfStreamIsKdfaCounterModeWithAnOpenLength()
    {
        var key = "key"u8.ToArray();
        using var s = new KdfStream(TpmAlgId.Sha256, key, "L", "ctx"u8);
        var got = s.Next(40);
        // HMAC-SHA256(key, [i]32 || "L" || 00 || "ctx" || [0]32), i = 1, 2 — computed independently here.
        byte[] Block(byte i) => HMACSHA256.HashData(key, new byte[] { 0, 0, 0, i, (byte)'L', 0, (byte)'c', (byte)'t', (byte)'x', 0, 0, 0, 0 });
        CollectionAssert.AreEqual(Block(1).Concat(Block(2)).Take(40).ToArray(), got);
    }
}
