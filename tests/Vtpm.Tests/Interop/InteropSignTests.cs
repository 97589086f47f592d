using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_sign and tpm2_verifysignature with primary signing keys (RSASSA, RSAPSS, ECDSA, HMAC) against vtpm and swtpm;
/// every RSA and ECDSA signature is also verified by the openssl command line with the PEM key tpm2_createprimary
/// wrote, and a signature over another message gets swtpm's response code.
/// </summary>
[TestClass]
public sealed class InteropSignTests
{
    const string SigningKey = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign";

    public static IEnumerable<object[]> TargetsAndSchemes =>
        from t in TpmTarget.All
        from s in new[] { "ecc256:ecdsa-sha256:null", "rsa2048:rsassa-sha256:null", "rsa2048:rsapss-sha256:null", "hmac:sha256" }
        select new object[] { t, s };

    static string SchemeOption(string algorithm) => algorithm.Split(':') is [_, var s, ..] && !s.StartsWith("sha", StringComparison.Ordinal) ? s.Split('-')[0] : "";

    [TestMethod]
    [DynamicData(nameof(TargetsAndSchemes))]
    public void SignatureVerifiesInTheTpmAndWithOpenSsl(string target, string algorithm)
    {
        using var t = InteropTpm.Start(target);
        var message = t.File("msg.txt", "a message to sign\n"u8.ToArray());
        bool asymmetric = !algorithm.StartsWith("hmac", StringComparison.Ordinal);
        t.Run("tpm2_createprimary", ["-C", "o", "-G", algorithm, "-a", SigningKey, .. asymmetric ? new[] { "-o", t.PathOf("key.pem"), "-f", "pem" } : []]);
        string[] scheme = SchemeOption(algorithm) is { Length: > 0 } s ? ["-s", s] : [];
        t.Run("tpm2_sign", ["-c", "0x80000000", "-g", "sha256", .. scheme, "-o", t.PathOf("sig.bin"), message]);
        t.Run("tpm2_verifysignature", "-c", "0x80000000", "-g", "sha256", "-m", message, "-s", t.PathOf("sig.bin"), "-t", t.PathOf("ticket.bin"));
        Assert.IsGreaterThan(0, t.Read("ticket.bin").Length, "a TPMT_TK_VERIFIED");
        if (!asymmetric) return;

        t.Run("tpm2_sign", ["-c", "0x80000000", "-g", "sha256", .. scheme, "-f", "plain", "-o", t.PathOf("sig.raw"), message]);
        string[] pss = algorithm.Contains("rsapss", StringComparison.Ordinal) ? ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-2"] : [];
        var (exit, output) = OpenSsl.Try(["dgst", "-sha256", "-verify", t.PathOf("key.pem"), .. pss, "-signature", t.PathOf("sig.raw"), message]);
        Assert.AreEqual(0, exit, output);
        StringAssert.Contains(output, "Verified OK");
    }

    [TestMethod]
    [DataRow("vtpm-mssim", "ecc256:ecdsa-sha256:null")]
    [DataRow("vtpm-swtpm", "rsa2048:rsassa-sha256:null")]
    [DataRow("vtpm-mssim", "hmac:sha256")]
    public void SignatureOverAnotherMessageGetsSwtpmsCode(string target, string algorithm)
    {
        uint Code(string which)
        {
            using var t = InteropTpm.Start(which);
            var message = t.File("msg.txt", "signed"u8.ToArray());
            var other = t.File("other.txt", "not signed"u8.ToArray());
            t.Run("tpm2_createprimary", "-C", "o", "-G", algorithm, "-a", SigningKey);
            t.Run("tpm2_sign", "-c", "0x80000000", "-g", "sha256", "-o", t.PathOf("sig.bin"), message);
            return InteropTpm.ResponseCode(t.Fail("tpm2_verifysignature", "-c", "0x80000000", "-g", "sha256", "-m", other, "-s", t.PathOf("sig.bin")));
        }
        Assert.AreEqual(Code("swtpm-swtpm"), Code(target));
    }
}
