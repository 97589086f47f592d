using System.Security.Cryptography;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using Vtpm.Wire.Tpm2.Client;

namespace Vtpm.Tests.Interop;

/// <summary>
/// TPM2_LoadExternal of a public key the openssl command line made, then TPM2_VerifySignature of a signature openssl
/// made with it — through the typed client, on vtpm and swtpm alike; a signature over other data is refused with the
/// same code by both.
/// </summary>
[TestClass]
public sealed class LoadExternalTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void OpenSslSignatureVerifiesWithTheLoadedPublicKey(string target)
    {
        using var t = InteropTpm.Start(target);
        OpenSsl.Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", t.PathOf("key.pem"));
        OpenSsl.Run("pkey", "-in", t.PathOf("key.pem"), "-pubout", "-out", t.PathOf("pub.pem"));
        var message = t.File("msg.txt", "signed by openssl"u8.ToArray());
        OpenSsl.Run("dgst", "-sha256", "-sign", t.PathOf("key.pem"), "-out", t.PathOf("sig.der"), message);

        using var ec = ECDsa.Create();
        ec.ImportFromPem(File.ReadAllText(t.PathOf("pub.pem")));
        var q = ec.ExportParameters(false).Q;
        var pub = new Tpm2bPublic();
        ref var area = ref pub.PublicArea;
        area.Type = TpmAlgId.Ecc;
        area.NameAlg = TpmAlgId.Sha256;
        area.ObjectAttributes = TpmaObject.Sign | TpmaObject.UserWithAuth;
        area.Parameters.EccDetail.Symmetric.Algorithm = TpmAlgId.Null;
        area.Parameters.EccDetail.Scheme.Scheme = TpmAlgId.Null;
        area.Parameters.EccDetail.CurveID = TpmEccCurve.NistP256;
        area.Parameters.EccDetail.Kdf.Scheme = TpmAlgId.Null;
        area.Unique.Ecc.X = Tpm2bEccParameter.From(q.X);
        area.Unique.Ecc.Y = Tpm2bEccParameter.From(q.Y);

        t.Server.PowerOnIfSimulator();
        using var connection = t.Server.Connect();
        var client = new Tpm2Client(connection);
        var none = new Tpm2bSensitive();
        Assert.AreEqual(TpmRc.Success, client.LoadExternal(in none, in pub, (uint)TpmRh.Owner, out var loaded));

        // openssl writes ECDSA signatures DER-encoded; the TPM takes r and s.
        var rs = ConvertSignature(File.ReadAllBytes(t.PathOf("sig.der")));
        var signature = new TpmtSignature { SigAlg = TpmAlgId.Ecdsa };
        signature.Signature.Ecdsa.Hash = TpmAlgId.Sha256;
        signature.Signature.Ecdsa.SignatureR = Tpm2bEccParameter.From(rs.AsSpan(0, 32));
        signature.Signature.Ecdsa.SignatureS = Tpm2bEccParameter.From(rs.AsSpan(32));
        var digest = Tpm2bDigest.From(SHA256.HashData("signed by openssl"u8));
        Assert.AreEqual(TpmRc.Success, client.VerifySignature(loaded.ObjectHandle, in digest, in signature, out var verified));
        Assert.AreEqual(TpmSt.Verified, verified.Validation.Tag);

        var other = Tpm2bDigest.From(SHA256.HashData("something else"u8));
        Assert.AreEqual(TpmRc.Signature.ForParameter(2), client.VerifySignature(loaded.ObjectHandle, in other, in signature, out _));
    }

    static byte[] ConvertSignature(byte[] der)
    {
        // The DER sequence of two INTEGERs, as fixed-size r || s.
        var reader = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER);
        var seq = reader.ReadSequence();
        byte[] Fixed(ReadOnlyMemory<byte> v)
        {
            var b = v.Span.TrimStart((byte)0).ToArray();
            return [.. new byte[32 - b.Length], .. b];
        }
        return [.. Fixed(seq.ReadIntegerBytes()), .. Fixed(seq.ReadIntegerBytes())];
    }
}
