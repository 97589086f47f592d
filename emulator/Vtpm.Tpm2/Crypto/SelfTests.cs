using System.Security.Cryptography;
using System.Text;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Crypto;

/// <summary>
/// Known-answer self tests of the implemented algorithms (Part 1 §12.5, TPM2_SelfTest). Vectors:
/// FIPS 180-4 examples ("abc"), RFC 4231 test case 1 (HMAC-SHA-256), FIPS 197 Appendix C.3 (AES-256),
/// SP 800-38A F.3.13 (CFB128-AES256, first block). Modes and object types built on a primitive are
/// covered by that primitive's test.
/// </summary>
public static class SelfTests
{
    static readonly byte[] Abc = Encoding.ASCII.GetBytes("abc");

    /// <summary>Runs the test that covers <paramref name="alg"/>; false if the answer is wrong.</summary>
    public static bool Run(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => Check(TpmHash.Hash(TpmAlgId.Sha1, Abc), "a9993e364706816aba3e25717850c26c9cd0d89d"),
        TpmAlgId.Sha256 => Check(TpmHash.Hash(TpmAlgId.Sha256, Abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        TpmAlgId.Sha384 => Check(TpmHash.Hash(TpmAlgId.Sha384, Abc),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
        TpmAlgId.Sha512 => Check(TpmHash.Hash(TpmAlgId.Sha512, Abc),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        TpmAlgId.Hmac or TpmAlgId.Keyedhash or TpmAlgId.Xor or TpmAlgId.Kdf1Sp800108 => TestHmac(),
        TpmAlgId.Aes or TpmAlgId.Symcipher => TestAes(),
        TpmAlgId.Cfb => TestCfb(),
        _ => false,
    };

    static bool TestHmac()
    {
        var key = new byte[20];
        Array.Fill(key, (byte)0x0b);
        var mac = new byte[32];
        TpmHash.Hmac(TpmAlgId.Sha256, key, Encoding.ASCII.GetBytes("Hi There"), mac);
        return Check(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    }

    static bool TestAes()
    {
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        var ct = aes.EncryptEcb(Convert.FromHexString("00112233445566778899aabbccddeeff"), PaddingMode.None);
        return Check(ct, "8ea2b7ca516745bfeafc49904b496089");
    }

    static bool TestCfb()
    {
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        var ct = aes.EncryptCfb(Convert.FromHexString("6bc1bee22e409f96e93d7e117393172a"),
            Convert.FromHexString("000102030405060708090a0b0c0d0e0f"), PaddingMode.None, feedbackSizeInBits: 128);
        return Check(ct, "dc7e84bfda79164b7ecd8486985d3860");
    }

    static bool Check(ReadOnlySpan<byte> actual, string expectedHex) =>
        CryptographicOperations.FixedTimeEquals(actual, Convert.FromHexString(expectedHex));
}
