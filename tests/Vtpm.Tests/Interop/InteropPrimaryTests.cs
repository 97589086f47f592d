using System.Security.Cryptography;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_createprimary and tpm2_readpublic against vtpm and swtpm: the keys are real (openssl reads the PEM the tools
/// write), the Name is nameAlg || H(public area) and the creation hash is H(creation data) when recomputed here, the
/// same template gives the same key until TPM2_Clear changes the owner seed, and forbidden attribute combinations get
/// the response code swtpm gives.
/// </summary>
[TestClass]
public sealed class InteropPrimaryTests
{
    public static IEnumerable<object[]> TargetsHierarchiesAlgorithms =>
        from t in TpmTarget.All
        from h in new[] { "o", "e", "n" }
        from a in new[] { "rsa2048", "ecc256" }
        select new object[] { t, h, a };

    static string Pem(InteropTpm t, string name) => System.Text.Encoding.ASCII.GetString(t.Read(name));

    [TestMethod]
    [DynamicData(nameof(TargetsHierarchiesAlgorithms))]
    public void CreatePrimaryGivesAKeyOpenSslReadsWithItsNameAndCreationHash(string target, string hierarchy, string algorithm)
    {
        using var t = InteropTpm.Start(target);
        var r = t.Run("tpm2_createprimary", "-C", hierarchy, "-G", algorithm, "-o", t.PathOf("key.pem"), "-f", "pem",
            "--creation-data", t.PathOf("cd.bin"), "-d", t.PathOf("ch.bin"), "-t", t.PathOf("ticket.bin"));
        StringAssert.Contains(Pem(t, "key.pem"), "BEGIN PUBLIC KEY");
        using (var key = algorithm.StartsWith("rsa", StringComparison.Ordinal) ? (AsymmetricAlgorithm)RSA.Create() : ECDsa.Create())
        {
            key.ImportFromPem(Pem(t, "key.pem"));
            Assert.AreEqual(algorithm.StartsWith("rsa", StringComparison.Ordinal) ? 2048 : 256, key.KeySize);
        }
        // Part 2 §15.2: creationHash = H_nameAlg(TPMS_CREATION_DATA); the tool writes both as marshalled TPM2Bs.
        var cd = t.Read("cd.bin");
        Assert.AreEqual(cd.Length - 2, (cd[0] << 8) | cd[1], "TPM2B_CREATION_DATA size");
        CollectionAssert.AreEqual(SHA256.HashData(cd.AsSpan(2)), t.Read("ch.bin")[2..]);

        var handles = t.Handles("handles-transient");
        Assert.HasCount(1, handles);
        t.Run("tpm2_readpublic", "-c", $"0x{handles[0]:x8}", "-o", t.PathOf("pub.bin"), "-n", t.PathOf("name.bin"));
        // Part 1 §16: Name = nameAlg || H(TPMT_PUBLIC); pub.bin is the TPM2B_PUBLIC.
        byte[] expected = [0x00, 0x0B, .. SHA256.HashData(t.Read("pub.bin").AsSpan(2))];
        CollectionAssert.AreEqual(expected, t.Read("name.bin"));
        StringAssert.Contains(r.Stdout, "name-alg");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void SameTemplateGivesTheSameKeyUntilClearChangesTheOwnerSeed(string target)
    {
        using var t = InteropTpm.Start(target);
        string Create(string hierarchy, string file)
        {
            t.Run("tpm2_createprimary", "-C", hierarchy, "-G", "ecc256", "-o", t.PathOf(file), "-f", "pem");
            t.Run("tpm2_flushcontext", "-t");
            return Pem(t, file);
        }
        string owner = Create("o", "o1.pem"), endorsement = Create("e", "e1.pem");
        Assert.AreEqual(owner, Create("o", "o2.pem"), "the same owner template twice");
        Assert.AreNotEqual(owner, endorsement, "the endorsement seed is another seed");
        t.Run("tpm2_clear");
        Assert.AreNotEqual(owner, Create("o", "o3.pem"), "TPM2_Clear changes the storage primary seed");
        Assert.AreEqual(endorsement, Create("e", "e2.pem"), "TPM2_Clear leaves the endorsement seed");
    }

    [TestMethod]
    public void ObjectMemoryHoldsThreeObjectsAndFlushFreesThem()
    {
        using var t = InteropTpm.Start("vtpm-mssim");
        for (int i = 0; i < 3; i++) t.Run("tpm2_createprimary", "-C", "n", "-G", "ecc256");
        InteropTpm.AssertRc(t.Fail("tpm2_createprimary", "-C", "n", "-G", "ecc256"), 0x902); // TPM_RC_OBJECT_MEMORY
        t.Run("tpm2_flushcontext", "-t");
        Assert.IsEmpty(t.Handles("handles-transient"));
        t.Run("tpm2_createprimary", "-C", "n", "-G", "ecc256");
    }

    /// <summary>Attribute combinations Part 1 §27.2 forbids, with the code swtpm answers; vtpm must answer the same.</summary>
    public static IEnumerable<object[]> ForbiddenTemplates =>
        from t in TpmTarget.All
        from c in new[]
        {
            new[] { "rsa2048", "fixedtpm|sensitivedataorigin|userwithauth|restricted|decrypt" },            // fixedTPM without fixedParent
            new[] { "rsa2048", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt|sign" }, // restricted sign and decrypt
            new[] { "ecc256", "fixedtpm|fixedparent|userwithauth|sign" },                                      // no sensitiveDataOrigin
            new[] { "rsa2048:null:aes128cfb", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" },    // symmetric on a signing key
            new[] { "ecc256:null:null", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt" }, // storage key without symmetric
        }
        select new object[] { t, c[0], c[1] };

    [TestMethod]
    [DynamicData(nameof(ForbiddenTemplates))]
    public void ForbiddenAttributeCombinationsGetSwtpmsResponseCode(string target, string algorithm, string attributes)
    {
        uint Code(string t)
        {
            using var tpm = InteropTpm.Start(t);
            return InteropTpm.ResponseCode(tpm.Fail("tpm2_createprimary", "-C", "o", "-G", algorithm, "-a", attributes));
        }
        Assert.AreEqual(Code("swtpm-swtpm"), Code(target), $"{algorithm} with {attributes}");
    }
}
