using System.Security.Cryptography;
using System.Text;

namespace Vtpm.Tests.Interop;

/// <summary>tpm2_pcrread/extend/event/reset/allocate: values checked against digests computed here.</summary>
[TestClass]
public sealed class InteropPcrTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrReadShowsResetValues(string target)
    {
        using var t = InteropTpm.Start(target);
        // After Startup(CLEAR) PCRs 0–16 and 23 are zero; 17–22 (DRTM, locality-4 resettable) are all ones
        // (PC Client Platform TPM Profile, PCR attributes table).
        CollectionAssert.AreEqual(new byte[32], t.PcrValue("sha256", 0));
        CollectionAssert.AreEqual(new byte[32], t.PcrValue("sha256", 16));
        CollectionAssert.AreEqual(new byte[20], t.PcrValue("sha1", 7));
        CollectionAssert.AreEqual(Enumerable.Repeat((byte)0xFF, 32).ToArray(), t.PcrValue("sha256", 17));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrExtendSetsSha256OfOldValueAndDigest(string target)
    {
        using var t = InteropTpm.Start(target);
        var d1 = SHA256.HashData("first"u8);
        var d2 = SHA256.HashData("second"u8);
        t.Run("tpm2_pcrextend", $"8:sha256={Convert.ToHexString(d1)}");
        var expected = SHA256.HashData([.. new byte[32], .. d1]);
        CollectionAssert.AreEqual(expected, t.PcrValue("sha256", 8));
        t.Run("tpm2_pcrextend", $"8:sha256={Convert.ToHexString(d2)}");
        expected = SHA256.HashData([.. expected, .. d2]);
        CollectionAssert.AreEqual(expected, t.PcrValue("sha256", 8));
        // Only the named bank changed.
        CollectionAssert.AreEqual(new byte[20], t.PcrValue("sha1", 8));
        var s1 = SHA1.HashData("third"u8);
        t.Run("tpm2_pcrextend", $"8:sha1={Convert.ToHexString(s1)}");
        CollectionAssert.AreEqual(SHA1.HashData([.. new byte[20], .. s1]), t.PcrValue("sha1", 8));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrEventExtendsEachBankWithTheEventDigest(string target)
    {
        using var t = InteropTpm.Start(target);
        var data = Encoding.ASCII.GetBytes("measured event data\n");
        var output = t.Run("tpm2_pcrevent", "9", t.File("event.bin", data)).Stdout;
        // Part 3 §22.3: the response lists the event digest for every active bank.
        Assert.AreEqual(Convert.ToHexString(SHA256.HashData(data)), InteropTpm.Field(output, "sha256").ToUpperInvariant(), output);
        Assert.AreEqual(Convert.ToHexString(SHA1.HashData(data)), InteropTpm.Field(output, "sha1").ToUpperInvariant(), output);
        CollectionAssert.AreEqual(SHA256.HashData([.. new byte[32], .. SHA256.HashData(data)]), t.PcrValue("sha256", 9));
        CollectionAssert.AreEqual(SHA1.HashData([.. new byte[20], .. SHA1.HashData(data)]), t.PcrValue("sha1", 9));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrResetClearsPcrSixteenButNotPcrZeroAtLocalityZero(string target)
    {
        using var t = InteropTpm.Start(target);
        var d = SHA256.HashData("debug"u8);
        t.Run("tpm2_pcrextend", $"16:sha256={Convert.ToHexString(d)}");
        t.Run("tpm2_pcrextend", $"0:sha256={Convert.ToHexString(d)}");
        CollectionAssert.AreEqual(SHA256.HashData([.. new byte[32], .. d]), t.PcrValue("sha256", 16));
        t.Run("tpm2_pcrreset", "16");
        CollectionAssert.AreEqual(new byte[32], t.PcrValue("sha256", 16));
        CollectionAssert.AreEqual(new byte[20], t.PcrValue("sha1", 16));
        // PCR 0 is not resettable from any locality: TPM_RC_LOCALITY (0x907).
        InteropTpm.AssertRc(t.Fail("tpm2_pcrreset", "0"), 0x907);
        CollectionAssert.AreEqual(SHA256.HashData([.. new byte[32], .. d]), t.PcrValue("sha256", 0));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrAllocateTakesEffectAtTheNextStartup(string target)
    {
        using var t = InteropTpm.Start(target);
        var before = t.PcrBanks();
        Assert.AreEqual(24, before["sha1"].Count, "the default allocation has an active SHA-1 bank");
        var output = t.Run("tpm2_pcrallocate", "sha1:none+sha256:all+sha384:all").Stdout;
        StringAssert.Contains(output, "sha384: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 ]");
        // Part 3 §22.5: the new allocation is used after the next _TPM_Init; until then nothing changes.
        Assert.AreEqual(24, t.PcrBanks()["sha1"].Count);
        t.Reboot();
        var after = t.PcrBanks();
        Assert.AreEqual(0, after.GetValueOrDefault("sha1")?.Count ?? 0, "SHA-1 bank still active after the restart");
        Assert.AreEqual(24, after["sha256"].Count);
        Assert.AreEqual(24, after["sha384"].Count);
        // The new bank works: extend and read it.
        var d = SHA384.HashData("x"u8);
        t.Run("tpm2_pcrextend", $"10:sha384={Convert.ToHexString(d)}");
        CollectionAssert.AreEqual(SHA384.HashData([.. new byte[48], .. d]), t.PcrValue("sha384", 10));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void HashMatchesDotNetAndCarriesATicket(string target)
    {
        using var t = InteropTpm.Start(target);
        foreach (int size in new[] { 100, 3000 })
        {
            // 3000 bytes exceed TPM2B_MAX_BUFFER, so tpm2_hash uses HashSequenceStart/SequenceUpdate/SequenceComplete.
            var data = new byte[size];
            new System.Random(size).NextBytes(data);
            var file = t.File($"in{size}.bin", data);
            t.Run("tpm2_hash", "-C", "o", "-g", "sha256", "-o", t.PathOf($"d{size}.bin"), "-t", t.PathOf($"t{size}.bin"), file);
            CollectionAssert.AreEqual(SHA256.HashData(data), t.Read($"d{size}.bin"), $"digest of {size} bytes");
            var ticket = t.Read($"t{size}.bin");
            // TPMT_TK_HASHCHECK: tag TPM_ST_HASHCHECK (0x8024), hierarchy TPM_RH_OWNER, a non-empty HMAC (Part 2 §10.7.6).
            Assert.AreEqual(0x80, ticket[0]);
            Assert.AreEqual(0x24, ticket[1]);
            CollectionAssert.AreEqual(new byte[] { 0x40, 0x00, 0x00, 0x01 }, ticket[2..6]);
            int hmacSize = ticket[6] << 8 | ticket[7];
            Assert.IsTrue(hmacSize >= 32, $"ticket HMAC of {hmacSize} bytes");
            Assert.AreEqual(8 + hmacSize, ticket.Length);
        }
        t.Run("tpm2_hash", "-g", "sha1", "-o", t.PathOf("s1.bin"), t.File("abc", "abc"u8.ToArray()));
        CollectionAssert.AreEqual(SHA1.HashData("abc"u8), t.Read("s1.bin"));
    }
}
