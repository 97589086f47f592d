using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_rsaencrypt and tpm2_rsadecrypt with an RSA decryption primary, against vtpm and swtpm: what the openssl command
/// line encrypts with the key's PEM (OAEP-SHA256 with a label, whose terminating zero is part of it; PKCS#1 v1.5) the TPM
/// decrypts, and what the TPM encrypts it decrypts again.
/// </summary>
[TestClass]
public sealed class InteropRsaTests
{
    public static IEnumerable<object[]> TargetsAndSchemes =>
        from t in TpmTarget.All
        from s in new[] { "oaep", "rsaes" }
        select new object[] { t, s };

    [TestMethod]
    [DynamicData(nameof(TargetsAndSchemes))]
    public void OpenSslCiphertextDecryptsAndTheTpmsRoundTrips(string target, string scheme)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "rsa2048:null:null", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt",
            "-o", t.PathOf("key.pem"), "-f", "pem");
        var message = t.File("msg.bin", "an RSA secret"u8.ToArray());
        string[] label = scheme == "oaep" ? ["-l", "the label"] : [];

        string[] padding = scheme == "oaep"
            ? ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256",
               "-pkeyopt", "rsa_oaep_label:" + Convert.ToHexString("the label\0"u8)]
            : ["-pkeyopt", "rsa_padding_mode:pkcs1"];
        OpenSsl.Run(["pkeyutl", "-encrypt", "-pubin", "-inkey", t.PathOf("key.pem"), .. padding, "-in", message, "-out", t.PathOf("openssl.ct")]);
        t.Run("tpm2_rsadecrypt", ["-c", "0x80000000", "-s", scheme, .. label, "-o", t.PathOf("openssl.pt"), t.PathOf("openssl.ct")]);
        CollectionAssert.AreEqual(t.Read("msg.bin"), t.Read("openssl.pt"), "openssl's ciphertext, decrypted by the TPM");

        t.Run("tpm2_rsaencrypt", ["-c", "0x80000000", "-s", scheme, .. label, "-o", t.PathOf("tpm.ct"), message]);
        Assert.AreEqual(256, t.Read("tpm.ct").Length);
        t.Run("tpm2_rsadecrypt", ["-c", "0x80000000", "-s", scheme, .. label, "-o", t.PathOf("tpm.pt"), t.PathOf("tpm.ct")]);
        CollectionAssert.AreEqual(t.Read("msg.bin"), t.Read("tpm.pt"), "the TPM's ciphertext, decrypted by the TPM");
    }
}
