namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2-tools' way of keeping keys between commands — context files (<c>-c file.ctx</c>, TPM2_ContextSave and
/// TPM2_ContextLoad of objects) — against vtpm and swtpm: a sealed object created and loaded under a primary's context
/// unseals from its own context, a key's context signs, and a primary's context loads again after
/// TPM2_Shutdown(STATE), a power cycle and TPM2_Startup(STATE) — but not after a TPM Reset, whatever the hierarchy.
/// </summary>
[TestClass]
public sealed class InteropContextFileTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void SealedObjectAndSigningKeyWorkFromContextFiles(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", t.PathOf("primary.ctx"));
        t.Run("tpm2_flushcontext", "-t");
        var secret = t.File("secret.txt", "kept in a context file"u8.ToArray());
        t.Run("tpm2_create", "-C", t.PathOf("primary.ctx"), "-i", secret, "-u", t.PathOf("seal.pub"), "-r", t.PathOf("seal.priv"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_load", "-C", t.PathOf("primary.ctx"), "-u", t.PathOf("seal.pub"), "-r", t.PathOf("seal.priv"), "-c", t.PathOf("seal.ctx"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_unseal", "-c", t.PathOf("seal.ctx"), "-o", t.PathOf("out.txt"));
        CollectionAssert.AreEqual("kept in a context file"u8.ToArray(), t.Read("out.txt"));
        t.Run("tpm2_flushcontext", "-t");

        t.Run("tpm2_create", "-C", t.PathOf("primary.ctx"), "-G", "ecc256", "-u", t.PathOf("key.pub"), "-r", t.PathOf("key.priv"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_load", "-C", t.PathOf("primary.ctx"), "-u", t.PathOf("key.pub"), "-r", t.PathOf("key.priv"), "-c", t.PathOf("key.ctx"));
        t.Run("tpm2_flushcontext", "-t");
        var message = t.File("msg.txt", "message"u8.ToArray());
        t.Run("tpm2_sign", "-c", t.PathOf("key.ctx"), "-g", "sha256", "-o", t.PathOf("sig.bin"), message);
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_verifysignature", "-c", t.PathOf("key.ctx"), "-g", "sha256", "-m", message, "-s", t.PathOf("sig.bin"));
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PrimaryContextLoadsAfterAResumeButNotAfterAReset(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", t.PathOf("primary.ctx"));
        t.Run("tpm2_readpublic", "-c", t.PathOf("primary.ctx"), "-n", t.PathOf("name1.bin"));
        t.Run("tpm2_flushcontext", "-t");

        t.Run("tpm2_shutdown");          // Shutdown(STATE)
        t.Server.PowerCycle();
        t.Run("tpm2_startup");           // Startup(STATE): a TPM Resume
        t.Run("tpm2_readpublic", "-c", t.PathOf("primary.ctx"), "-n", t.PathOf("name2.bin"));
        t.Run("tpm2_flushcontext", "-t");
        CollectionAssert.AreEqual(t.Read("name1.bin"), t.Read("name2.bin"));

        t.Reboot();                      // _TPM_Init, Startup(CLEAR): a TPM Reset
        // Part 1 §30.3: every context carries the reset count in its integrity (swtpm refuses it too).
        InteropTpm.AssertRc(t.Fail("tpm2_readpublic", "-c", t.PathOf("primary.ctx")), 0x1DF); // TPM_RC_INTEGRITY, parameter 1
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void NullHierarchyContextDiesWithTheReset(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "n", "-G", "ecc256", "-c", t.PathOf("null.ctx"));
        t.Run("tpm2_flushcontext", "-t");
        t.Reboot();
        // Part 1 §30.3: the null hierarchy's proof changes with every TPM Reset, so its contexts no longer verify.
        InteropTpm.AssertRc(t.Fail("tpm2_readpublic", "-c", t.PathOf("null.ctx")), 0x1DF); // TPM_RC_INTEGRITY, parameter 1
    }
}
