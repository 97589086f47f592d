using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using Vtpm.Wire.Tpm2.Client;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_create makes a sealed data object under a storage primary; the typed client loads the files the tool wrote
/// (TPM2B_PUBLIC and TPM2B_PRIVATE as the tools marshal them) and tpm2_unseal reads the secret back — against vtpm
/// and swtpm alike. A changed private blob or one loaded under another parent gets the code swtpm gives.
/// </summary>
[TestClass]
public sealed class InteropSealTests
{
    const uint FirstTransient = 0x80000000;

    static (TpmRc Rc, uint Handle) LoadWithClient(InteropTpm t, byte[] pub, byte[] priv, uint parent)
    {
        var rp = new TpmReader(pub);
        Assert.AreEqual(TpmRc.Success, Tpm2bPublic.Unmarshal(ref rp, out var inPublic));
        var rv = new TpmReader(priv);
        Assert.AreEqual(TpmRc.Success, Tpm2bPrivate.Unmarshal(ref rv, out var inPrivate));
        t.Server.PowerOnIfSimulator();
        using var connection = t.Server.Connect();
        var client = new Tpm2Client(connection);
        var rc = client.Load(parent, in inPrivate, in inPublic, out var loaded, [AuthCommand.EmptyPassword]);
        return (rc, loaded.ObjectHandle);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void SealedDataCreatedByTpm2CreateUnsealsAfterLoad(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256");
        var secret = t.File("secret.txt", "the sealed secret"u8.ToArray());
        t.Run("tpm2_create", "-C", $"0x{FirstTransient:x8}", "-i", secret, "-u", t.PathOf("seal.pub"), "-r", t.PathOf("seal.priv"));

        var (rc, handle) = LoadWithClient(t, t.Read("seal.pub"), t.Read("seal.priv"), FirstTransient);
        Assert.AreEqual(TpmRc.Success, rc);
        var r = t.Run("tpm2_unseal", "-c", $"0x{handle:x8}", "-o", t.PathOf("out.txt"));
        CollectionAssert.AreEqual("the sealed secret"u8.ToArray(), t.Read("out.txt"), r.ToString());
    }

    /// <summary>Both cases in one run per TPM; the codes of vtpm must be swtpm's.</summary>
    [TestMethod]
    [DataRow("vtpm-mssim")]
    [DataRow("vtpm-swtpm")]
    public void ChangedPrivateOrAnotherParentGetsSwtpmsCode(string target)
    {
        (uint Tampered, uint OtherParent) Codes(string which)
        {
            using var t = InteropTpm.Start(which);
            t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256");
            t.Run("tpm2_createprimary", "-C", "e", "-G", "ecc256");
            var secret = t.File("secret.txt", "x"u8.ToArray());
            t.Run("tpm2_create", "-C", $"0x{FirstTransient:x8}", "-i", secret, "-u", t.PathOf("seal.pub"), "-r", t.PathOf("seal.priv"));
            var priv = t.Read("seal.priv");
            priv[^3] ^= 0x40;
            var tampered = LoadWithClient(t, t.Read("seal.pub"), priv, FirstTransient).Rc;
            var otherParent = LoadWithClient(t, t.Read("seal.pub"), t.Read("seal.priv"), FirstTransient + 1).Rc;
            return (tampered.Code, otherParent.Code);
        }
        var swtpm = Codes("swtpm-swtpm");
        var ours = Codes(target);
        Assert.AreEqual(swtpm, ours);
        Assert.AreEqual(TpmRc.Integrity.ForParameter(1).Code, ours.Tampered);
    }
}
