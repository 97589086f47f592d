using System.Security.Cryptography;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using Vtpm.Wire.Tpm2.Client;

namespace Vtpm.Tests.Interop;

/// <summary>
/// tpm2_encryptdecrypt and tpm2_hmac with keys whose values the test knows (loaded with TPM2_LoadExternal into the null
/// hierarchy through the typed client): every mode round-trips, and the ciphertext and the HMAC are what the openssl
/// command line and .NET compute with the same key — on vtpm and swtpm alike.
/// </summary>
[TestClass]
public sealed class InteropSymmetricTests
{
    static readonly byte[] AesKey = Convert.FromHexString("000102030405060708090A0B0C0D0E0F");
    static readonly byte[] Iv = Convert.FromHexString("F0E0D0C0B0A090807060504030201000");
    static readonly byte[] HmacKey = SHA256.HashData("hmac key"u8);

    public static IEnumerable<object[]> TargetsAndModes =>
        from t in Support.Processes.TpmTarget.All
        from m in new[] { "cfb", "cbc", "ctr", "ofb", "ecb" }
        select new object[] { t, m };

    /// <summary>Loads a known key into the null hierarchy and returns its handle.</summary>
    static uint LoadKnown(InteropTpm t, TpmAlgId type, byte[] secret)
    {
        var pub = new Tpm2bPublic();
        ref var a = ref pub.PublicArea;
        a.Type = type;
        a.NameAlg = TpmAlgId.Sha256;
        a.ObjectAttributes = TpmaObject.UserWithAuth | TpmaObject.Sign | (type == TpmAlgId.Symcipher ? TpmaObject.Decrypt : 0);
        var priv = new Tpm2bSensitive { Size = 1 };
        priv.SensitiveArea.SensitiveType = type;
        priv.SensitiveArea.SeedValue = Tpm2bDigest.From(new byte[32]);
        if (type == TpmAlgId.Symcipher)
        {
            a.Parameters.SymDetail.Sym.Algorithm = TpmAlgId.Aes;
            a.Parameters.SymDetail.Sym.KeyBits.Aes = 128;
            a.Parameters.SymDetail.Sym.Mode.Aes = TpmAlgId.Null;
            priv.SensitiveArea.Sensitive.Sym = Tpm2bSymKey.From(secret);
            a.Unique.Sym = Tpm2bDigest.From(SHA256.HashData([.. new byte[32], .. secret]));
        }
        else
        {
            a.Parameters.KeyedHashDetail.Scheme.Scheme = TpmAlgId.Hmac;
            a.Parameters.KeyedHashDetail.Scheme.Details.Hmac.HashAlg = TpmAlgId.Sha256;
            priv.SensitiveArea.Sensitive.Bits = Tpm2bSensitiveData.From(secret);
            a.Unique.KeyedHash = Tpm2bDigest.From(SHA256.HashData([.. new byte[32], .. secret]));
        }
        t.Server.PowerOnIfSimulator();
        using var connection = t.Server.Connect();
        var client = new Tpm2Client(connection);
        Assert.AreEqual(TpmRc.Success, client.LoadExternal(in priv, in pub, (uint)TpmRh.Null, out var loaded));
        return loaded.ObjectHandle;
    }

    [TestMethod]
    [DynamicData(nameof(TargetsAndModes))]
    public void EncryptionMatchesOpenSslAndDecryptionRoundTrips(string target, string mode)
    {
        using var t = InteropTpm.Start(target);
        uint key = LoadKnown(t, TpmAlgId.Symcipher, AesKey);
        var plain = t.File("in.bin", SHA512.HashData("forty-eight bytes of plaintext"u8)[..48]);
        var iv = t.File("iv.bin", Iv);
        t.Run("tpm2_encryptdecrypt", "-c", $"0x{key:x8}", "-G", mode, "-t", iv, "-o", t.PathOf("enc.bin"), plain);
        t.Run("tpm2_encryptdecrypt", "-c", $"0x{key:x8}", "-d", "-G", mode, "-t", iv, "-o", t.PathOf("dec.bin"), t.PathOf("enc.bin"));
        CollectionAssert.AreEqual(t.Read("in.bin"), t.Read("dec.bin"), "round trip");

        string cipher = mode == "cfb" ? "aes-128-cfb" : $"aes-128-{mode}";
        var args = new List<string> { "enc", $"-{cipher}", "-K", Convert.ToHexString(AesKey), "-nopad", "-in", plain, "-out", t.PathOf("openssl.bin") };
        if (mode != "ecb") args.InsertRange(4, ["-iv", Convert.ToHexString(Iv)]);
        OpenSsl.Run([.. args]);
        CollectionAssert.AreEqual(t.Read("openssl.bin"), t.Read("enc.bin"), $"{mode}: the TPM's ciphertext is openssl's");
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void HmacIsTheHmacOfTheKey(string target)
    {
        using var t = InteropTpm.Start(target);
        uint key = LoadKnown(t, TpmAlgId.Keyedhash, HmacKey);
        var data = t.File("data.bin", "data to authenticate"u8.ToArray());
        var r = t.Run("tpm2_hmac", "-c", $"0x{key:x8}", "-g", "sha256", "--hex", data);
        Assert.AreEqual(Convert.ToHexString(HMACSHA256.HashData(HmacKey, "data to authenticate"u8)).ToLowerInvariant(), r.Stdout.Trim());
    }
}
