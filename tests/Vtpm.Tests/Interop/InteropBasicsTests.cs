using System.Text.RegularExpressions;

namespace Vtpm.Tests.Interop;

/// <summary>tpm2-tools against a started server: startup, self test, capabilities, random numbers.</summary>
[TestClass]
public sealed class InteropBasicsTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void StartupClearOpensTheTpmToCommands(string target)
    {
        using var t = InteropTpm.Start(target, startup: false);
        // Part 3 §9.3: before TPM2_Startup every command but Startup returns TPM_RC_INITIALIZE (0x100).
        InteropTpm.AssertRc(t.Fail("tpm2_getrandom", "8"), 0x100);
        t.Run("tpm2_startup", "-c");
        Assert.AreEqual(16, t.Run("tpm2_getrandom", "--hex", "8").Stdout.Trim().Length);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void SelfTestPassesAndTestResultIsSuccess(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_selftest", "--fulltest");
        t.Run("tpm2_selftest");
        var r = t.Run("tpm2_gettestresult").Stdout;
        Assert.AreEqual("success", InteropTpm.Field(r, "status"), r);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetCapAnswersEveryGroupTheToolKnows(string target)
    {
        using var t = InteropTpm.Start(target);
        var groups = System.Text.RegularExpressions.Regex.Matches(t.Run("tpm2_getcap", "-l").Stdout, @"^-\s*(\S+)\s*$", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.AreEqual(13, groups.Count, string.Join(", ", groups));
        foreach (var g in groups)
        {
            var r = t.Run("tpm2_getcap", g);
            // Each group prints YAML; the handle groups may be empty on a fresh TPM, and so is the curve list of a
            // TPM without ECC (checked against the algorithm list in the next test); the others never are.
            if ((!g.StartsWith("handles-", StringComparison.Ordinal) || g is "handles-permanent" or "handles-pcr") && g != "ecc-curves")
                Assert.IsFalse(string.IsNullOrWhiteSpace(r.Stdout), $"tpm2_getcap {g} printed nothing");
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetCapReportsAlgorithmsCommandsCurvesAndProperties(string target)
    {
        using var t = InteropTpm.Start(target);
        // A leading newline lets every entry, the first included, match "\n<name>:".
        var algs = "\n" + t.Run("tpm2_getcap", "algorithms").Stdout;
        foreach (var a in new[] { "sha1", "sha256", "sha384", "sha512", "hmac", "aes" })
            StringAssert.Contains(algs, "\n" + a + ":", $"algorithm {a} missing:\n{algs}");
        // SHA-256 is TPM_ALG_SHA256 (0x000B) with TPMA_ALGORITHM hash = 1 only (Part 2 §6.3, §8.2).
        StringAssert.Matches(algs, new Regex(@"\nsha256:\s*\n\s*value:\s*0xB\s*\n\s*asymmetric:\s*0\s*\n\s*symmetric:\s*0\s*\n\s*hash:\s*1\s*\n\s*object:\s*0"));

        var cmds = t.Run("tpm2_getcap", "commands").Stdout;
        foreach (var c in new[] { "GetRandom", "PCR_Extend", "NV_DefineSpace", "StartAuthSession", "Hash", "ReadClock", "Startup" })
            StringAssert.Contains(cmds, $"TPM2_CC_{c}:", $"command {c} missing:\n{cmds}");
        // TPMA_CC of TPM2_CC_GetRandom: commandIndex 0x17B and no other attribute (no handles, no NV, Part 2 §8.9).
        StringAssert.Matches(cmds, new Regex(@"TPM2_CC_GetRandom:\s*\n\s*value:\s*0x17B\b", RegexOptions.IgnoreCase));

        // The curve list agrees with the algorithm list: a TPM with ECC lists at least NIST P-256, one without
        // ECC lists no curve (our engine has no ECC yet; swtpm has).
        var curves = t.Run("tpm2_getcap", "ecc-curves").Stdout;
        if (algs.Contains("\necc:", StringComparison.Ordinal)) StringAssert.Contains(curves, "TPM2_ECC_NIST_P256: 0x3");
        else Assert.IsTrue(string.IsNullOrWhiteSpace(curves), curves);

        var fixedProps = t.Run("tpm2_getcap", "properties-fixed").Stdout;
        StringAssert.Matches(fixedProps, new Regex(@"TPM2_PT_FAMILY_INDICATOR:\s*\n\s*raw:\s*0x322E3000"));
        StringAssert.Matches(fixedProps, new Regex(@"TPM2_PT_PCR_COUNT:\s*\n\s*raw:\s*0x18\b"));

        var variable = t.Run("tpm2_getcap", "properties-variable").Stdout;
        Assert.AreEqual("0", InteropTpm.Field(variable, "ownerAuthSet"));
        Assert.AreEqual("0", InteropTpm.Field(variable, "inLockout"));
        // After Startup(CLEAR) the hierarchies are enabled (TPMA_STARTUP_CLEAR, Part 2 §8.7).
        Assert.AreEqual("1", InteropTpm.Field(variable, "phEnable"));
        Assert.AreEqual("1", InteropTpm.Field(variable, "shEnable"));
        Assert.AreEqual("1", InteropTpm.Field(variable, "ehEnable"));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetCapPcrsListsTwentyFourPcrsPerActiveBank(string target)
    {
        using var t = InteropTpm.Start(target);
        var banks = t.PcrBanks();
        Assert.IsTrue(banks.ContainsKey("sha256"), string.Join(",", banks.Keys));
        CollectionAssert.AreEqual(Enumerable.Range(0, 24).ToList(), banks["sha256"]);
        Assert.IsTrue(banks.Values.All(b => b.Count is 0 or 24), "a bank with a partial selection");
        var pcrHandles = t.Handles("handles-pcr");
        CollectionAssert.AreEqual(Enumerable.Range(0, 24).Select(i => (uint)i).ToList(), pcrHandles);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetCapHandleGroupsListWhatExists(string target)
    {
        using var t = InteropTpm.Start(target);
        var permanent = t.Handles("handles-permanent");
        foreach (uint h in new uint[] { 0x40000001, 0x4000000A, 0x4000000B, 0x4000000C, 0x40000009, 0x40000007 })
            CollectionAssert.Contains(permanent, h, $"permanent handle 0x{h:X} missing");
        Assert.AreEqual(0, t.Handles("handles-transient").Count);
        Assert.AreEqual(0, t.Handles("handles-persistent").Count);
        Assert.AreEqual(0, t.Handles("handles-nv-index").Count);
        Assert.AreEqual(0, t.Handles("handles-loaded-session").Count);
        Assert.AreEqual(0, t.Handles("handles-saved-session").Count);

        t.Run("tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
        CollectionAssert.AreEqual(new List<uint> { 0x1500016 }, t.Handles("handles-nv-index"));

        // tpm2_startauthsession saves the session context to the file, so the session is "saved", not loaded.
        t.Run("tpm2_startauthsession", "-S", t.PathOf("s.ctx"), "--hmac-session");
        var saved = t.Handles("handles-saved-session");
        Assert.AreEqual(1, saved.Count);
        Assert.AreEqual(0x02u, saved[0] >> 24, $"0x{saved[0]:X} is not an HMAC session handle");
        Assert.AreEqual(0, t.Handles("handles-loaded-session").Count);
        t.Run("tpm2_flushcontext", t.PathOf("s.ctx"));
        Assert.AreEqual(0, t.Handles("handles-saved-session").Count);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetRandomReturnsTheRequestedSizeAsFileAndHex(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_getrandom", "-o", t.PathOf("r.bin"), "32");
        var bytes = t.Read("r.bin");
        Assert.AreEqual(32, bytes.Length);
        string hex1 = t.Run("tpm2_getrandom", "--hex", "20").Stdout.Trim();
        string hex2 = t.Run("tpm2_getrandom", "--hex", "20").Stdout.Trim();
        StringAssert.Matches(hex1, new Regex("^[0-9a-f]{40}$"));
        StringAssert.Matches(hex2, new Regex("^[0-9a-f]{40}$"));
        Assert.AreNotEqual(hex1, hex2, "two 160-bit random strings are equal");
        Assert.IsFalse(bytes.All(b => b == 0), "32 zero bytes from the RNG");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void StirRandomAcceptsEntropyAndRandomStillFlows(string target)
    {
        using var t = InteropTpm.Start(target);
        var entropy = t.File("entropy.bin", System.Security.Cryptography.RandomNumberGenerator.GetBytes(128));
        t.Run("tpm2_stirrandom", entropy);
        t.Run("tpm2_stirrandom", t.File("small.bin", [1, 2, 3]));
        string hex = t.Run("tpm2_getrandom", "--hex", "16").Stdout.Trim();
        StringAssert.Matches(hex, new Regex("^[0-9a-f]{32}$"));
    }
}
