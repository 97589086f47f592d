using System.Security.Cryptography;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_ecdhkeygen and tpm2_ecdhzgen with an ECDH key, against vtpm and swtpm: the Z of KeyGen is the Z that ZGen
/// computes from KeyGen's ephemeral point, and with a peer key openssl made, the x-coordinate of ZGen's point is the
/// shared secret `openssl pkeyutl -derive` computes from the other side.
/// </summary>
[TestClass]
public sealed class InteropEcdhTests
{
    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void KeyGenAndZGenAgreeAndOpenSslDerivesTheSameSecret(string target)
    {
        using var t = InteropTpm.Start(target);
        t.Run("tpm2_createprimary", "-C", "o", "-G", "ecc256:ecdh-sha256:null", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt",
            "-c", t.PathOf("key.ctx"), "-o", t.PathOf("key.pem"), "-f", "pem");
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_ecdhkeygen", "-c", t.PathOf("key.ctx"), "-u", t.PathOf("eph.pub"), "-o", t.PathOf("z1.bin"));
        t.Run("tpm2_flushcontext", "-t");
        t.Run("tpm2_ecdhzgen", "-c", t.PathOf("key.ctx"), "-u", t.PathOf("eph.pub"), "-o", t.PathOf("z2.bin"));
        t.Run("tpm2_flushcontext", "-t");
        CollectionAssert.AreEqual(t.Read("z1.bin"), t.Read("z2.bin"), "KeyGen's Z and ZGen's Z from its ephemeral point");

        OpenSsl.Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", t.PathOf("peer.pem"));
        using var peer = ECDiffieHellman.Create();
        peer.ImportFromPem(File.ReadAllText(t.PathOf("peer.pem")));
        var q = peer.ExportParameters(false).Q;
        // TPM2B_ECC_POINT as the tools read it: size, then x and y as TPM2B_ECC_PARAMETERs.
        byte[] point = [0, 68, 0, 32, .. q.X!, 0, 32, .. q.Y!];
        t.File("peer.pub", point);
        t.Run("tpm2_ecdhzgen", "-c", t.PathOf("key.ctx"), "-u", t.PathOf("peer.pub"), "-o", t.PathOf("z3.bin"));
        OpenSsl.Run("pkeyutl", "-derive", "-inkey", t.PathOf("peer.pem"), "-peerkey", t.PathOf("key.pem"), "-out", t.PathOf("secret.bin"));
        CollectionAssert.AreEqual(t.Read("secret.bin"), t.Read("z3.bin")[4..36], "Z's x-coordinate is openssl's ECDH secret");
    }
}
