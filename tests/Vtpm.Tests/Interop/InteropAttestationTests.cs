namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_quote checked by tpm2_checkquote, tpm2_gettime and tpm2_certify checked by tpm2_verifysignature over the
/// TPMS_ATTEST they return, with a restricted ECDSA attestation key in the endorsement hierarchy — on vtpm and swtpm.
/// </summary>
[TestClass]
public sealed class InteropAttestationTests
{
    const string AttestationKey = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign";
    const string Nonce = "0011223344556677";

    static InteropTpm StartWithKey(string target)
    {
        var t = InteropTpm.Start(target);
        try
        {
            t.Run("tpm2_createprimary", "-C", "e", "-G", "ecc256:ecdsa-sha256:null", "-a", AttestationKey, "-c", t.PathOf("ak.ctx"));
            t.Run("tpm2_readpublic", "-c", t.PathOf("ak.ctx"), "-f", "pem", "-o", t.PathOf("ak.pem"));
            t.Run("tpm2_flushcontext", "-t");
            return t;
        }
        catch
        {
            // The caller's using never sees a TPM whose setup failed: stop its server here.
            t.Dispose();
            throw;
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void QuoteOfPcrsVerifiesWithCheckquote(string target)
    {
        using var t = StartWithKey(target);
        t.Run("tpm2_pcrextend", "16:sha256=" + new string('a', 64));
        t.Run("tpm2_quote", "-c", t.PathOf("ak.ctx"), "-l", "sha256:0,1,16", "-q", Nonce, "-m", t.PathOf("quote.msg"),
            "-s", t.PathOf("quote.sig"), "-o", t.PathOf("pcrs.out"), "-g", "sha256");
        t.Run("tpm2_checkquote", "-u", t.PathOf("ak.pem"), "-m", t.PathOf("quote.msg"), "-s", t.PathOf("quote.sig"),
            "-f", t.PathOf("pcrs.out"), "-g", "sha256", "-q", Nonce);
        // Another nonce than the one quoted is refused.
        Assert.IsFalse(t.Tools.Fail("tpm2_checkquote", "-u", t.PathOf("ak.pem"), "-m", t.PathOf("quote.msg"), "-s", t.PathOf("quote.sig"),
            "-f", t.PathOf("pcrs.out"), "-g", "sha256", "-q", "ffeeddccbbaa9988").Succeeded);
        var quoted = t.Read("quote.msg");
        Assert.AreEqual(0xFF544347u, (uint)(quoted[0] << 24 | quoted[1] << 16 | quoted[2] << 8 | quoted[3]), "TPM_GENERATED_VALUE");
        Assert.AreEqual(0x8018, quoted[4] << 8 | quoted[5], "TPM_ST_ATTEST_QUOTE");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetTimeAttestationVerifies(string target)
    {
        using var t = StartWithKey(target);
        t.Run("tpm2_gettime", "-c", t.PathOf("ak.ctx"), "-q", Nonce, "--attestation", t.PathOf("time.att"), "-o", t.PathOf("time.sig"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_verifysignature", "-c", t.PathOf("ak.ctx"), "-g", "sha256", "-m", t.PathOf("time.att"), "-s", t.PathOf("time.sig"));
        var att = t.Read("time.att");
        Assert.AreEqual(0x8019, att[4] << 8 | att[5], "TPM_ST_ATTEST_TIME");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void CertifyAttestationNamesTheObjectAndVerifies(string target)
    {
        using var t = StartWithKey(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", t.PathOf("obj.ctx"));
        t.Run("tpm2_readpublic", "-c", t.PathOf("obj.ctx"), "-n", t.PathOf("obj.name"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_certify", "-C", t.PathOf("ak.ctx"), "-c", t.PathOf("obj.ctx"), "-g", "sha256", "-o", t.PathOf("cert.att"), "-s", t.PathOf("cert.sig"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_verifysignature", "-c", t.PathOf("ak.ctx"), "-g", "sha256", "-m", t.PathOf("cert.att"), "-s", t.PathOf("cert.sig"));
        var att = t.Read("cert.att");
        Assert.AreEqual(0x8017, att[4] << 8 | att[5], "TPM_ST_ATTEST_CERTIFY");
        var name = t.Read("obj.name");
        Assert.IsTrue(att.AsSpan().IndexOf(name) > 0, "the certified object's Name is in the attestation");
    }
}
