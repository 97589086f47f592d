namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_evictcontrol against vtpm and swtpm: a primary made persistent is listed, survives a TPM Reset with its Name,
/// signs under its persistent handle, and is removed again; TPM2_Clear removes the owner's persistent objects; a handle
/// outside the owner's range gets swtpm's code.
/// </summary>
[TestClass]
public sealed class InteropPersistentTests
{
    const string Persistent = "0x81000001";

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PersistentKeySurvivesAResetAndIsRemovedAgain(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign", "-c", t.PathOf("key.ctx"));
        t.Run("tpm2_readpublic", "-c", t.PathOf("key.ctx"), "-n", t.PathOf("name1.bin"));
        t.Run("tpm2_evictcontrol", "-C", "o", "-c", t.PathOf("key.ctx"), Persistent);
        t.Run("tpm2_flushcontext", "-t");
        CollectionAssert.Contains(t.Handles("handles-persistent"), 0x81000001u);

        t.Reboot();
        t.Run("tpm2_readpublic", "-c", Persistent, "-n", t.PathOf("name2.bin"));
        CollectionAssert.AreEqual(t.Read("name1.bin"), t.Read("name2.bin"), "the persistent object after a TPM Reset");
        var message = t.File("msg.txt", "signed by a persistent key"u8.ToArray());
        t.Run("tpm2_sign", "-c", Persistent, "-g", "sha256", "-o", t.PathOf("sig.bin"), message);
        t.Run("tpm2_verifysignature", "-c", Persistent, "-g", "sha256", "-m", message, "-s", t.PathOf("sig.bin"));

        t.Run("tpm2_evictcontrol", "-C", "o", "-c", Persistent);
        Assert.IsEmpty(t.Handles("handles-persistent"));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void ClearRemovesTheOwnersPersistentObjects(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", t.PathOf("primary.ctx"));
        t.Run("tpm2_evictcontrol", "-C", "o", "-c", t.PathOf("primary.ctx"), Persistent);
        t.Run("tpm2_clear");
        Assert.IsEmpty(t.Handles("handles-persistent"));
    }

    [TestMethod]
    [DataRow("vtpm-mssim")]
    [DataRow("vtpm-swtpm")]
    public void PlatformRangeHandleWithOwnerAuthGetsSwtpmsCode(string target)
    {
        uint Code(string which)
        {
            using var t = InteropTpm.Start(which);
            t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", t.PathOf("primary.ctx"));
            return InteropTpm.ResponseCode(t.Fail("tpm2_evictcontrol", "-C", "o", "-c", t.PathOf("primary.ctx"), "0x81800001"));
        }
        Assert.AreEqual(Code("swtpm-swtpm"), Code(target));
    }
}
