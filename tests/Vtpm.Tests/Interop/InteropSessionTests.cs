namespace Vtpm.Tests.Interop;

/// <summary>HMAC sessions through tpm2-tools: start, use for an NV write, flush.</summary>
[TestClass]
public sealed class InteropSessionTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void HmacSessionStartsAndFlushes(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_startauthsession", "--hmac-session", "-S", t.PathOf("s1.ctx"));
        t.Run("tpm2_startauthsession", "--hmac-session", "-g", "sha256", "-S", t.PathOf("s2.ctx"));
        var sessions = t.Handles("handles-saved-session");
        Assert.AreEqual(2, sessions.Count);
        Assert.IsTrue(sessions.All(h => h >> 24 == 0x02), "HMAC session handles are 0x02xxxxxx");
        Assert.AreEqual(0ul, InteropTpm.Number(t.Run("tpm2_getcap", "properties-variable").Stdout, "TPM2_PT_HR_LOADED"));
        t.Run("tpm2_flushcontext", t.PathOf("s1.ctx"));
        Assert.AreEqual(1, t.Handles("handles-saved-session").Count);
        t.Run("tpm2_flushcontext", "--saved-session");
        Assert.AreEqual(0, t.Handles("handles-saved-session").Count);
        // Flushing a session that no longer exists fails.
        t.Fail("tpm2_flushcontext", t.PathOf("s1.ctx"));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void NvWriteAuthorizedByHmacSession(string target)
    {
        using var t = InteropTpm.Start(target);
        const string index = "0x1500016";
        t.Run("tpm2_nvdefine", index, "-C", "o", "-s", "16", "-a", "authread|authwrite", "-p", "idxpw");
        t.Run("tpm2_startauthsession", "--hmac-session", "-S", t.PathOf("s.ctx"));
        var data = "hmac-authorized"u8.ToArray();
        // The HMAC covers the command parameters with the index's authValue (Part 1 §19.6); the tool
        // checks the response HMAC, so success means both sides computed the same session key and nonces.
        t.Run("tpm2_nvwrite", index, "-C", index, "-P", $"session:{t.PathOf("s.ctx")}+idxpw", "-i", t.File("d.bin", data));
        t.Run("tpm2_nvread", index, "-C", index, "-P", $"session:{t.PathOf("s.ctx")}+idxpw", "-s", data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", t.PathOf("o.bin"));
        CollectionAssert.AreEqual(data, t.Read("o.bin"));
        // The wrong authValue in the HMAC: TPM_RC_AUTH_FAIL for session 1 (0x98E).
        InteropTpm.AssertRc(t.Fail("tpm2_nvwrite", index, "-C", index, "-P", $"session:{t.PathOf("s.ctx")}+wrong", "-i", t.PathOf("d.bin")), 0x98E);
        t.Run("tpm2_flushcontext", "--saved-session");
        Assert.AreEqual(0, t.Handles("handles-saved-session").Count);
        Assert.AreEqual(0, t.Handles("handles-loaded-session").Count);
    }
}
