using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.WireFormat;

/// <summary>
/// The structure layer generated from tools/gen/catalog: Part 2's layouts, allowed values and the response codes
/// of a bad structure (Part 2 §4 and the per-type "#TPM_RC" lines), with the specification's templates as data.
/// </summary>
[TestClass]
public sealed class GeneratedStructureTests
{
    /// <summary>tpm2_createprimary's default RSA key (rsa2048:null:aes128cfb, restricted decrypt, fixed, userWithAuth) as TPM2B_PUBLIC.</summary>
    const string RsaStorageTemplate = "001A" + "0001" + "000B" + "00030072" + "0000" + "0006" + "0080" + "0043" + "0010" + "0800" + "00000000" + "0000";

    /// <summary>The same for ECC NIST P-256 (ecc256:null:aes128cfb), unique x and y empty.</summary>
    const string EccStorageTemplate = "001A" + "0023" + "000B" + "00030072" + "0000" + "0006" + "0080" + "0043" + "0010" + "0003" + "0010" + "0000" + "0000";

    static TpmRc Parse(string hex, out Tpm2bPublic value, bool allowNull = false)
    {
        var r = new TpmReader(Convert.FromHexString(hex));
        var rc = Tpm2bPublic.Unmarshal(ref r, out value, allowNull);
        if (rc.IsSuccess) Assert.IsTrue(r.AtEnd, "bytes left after the structure");
        return rc;
    }

    static string Marshal(in Tpm2bPublic value)
    {
        var buffer = new byte[Tpm2bPublic.MaxSize];
        var w = new TpmWriter(buffer);
        value.Marshal(ref w);
        return Convert.ToHexString(w.Written);
    }

    [TestMethod]
    public void RsaTemplateUnmarshalsFieldByFieldAndMarshalsBackToTheSameBytes()
    {
        Assert.AreEqual(TpmRc.Success, Parse(RsaStorageTemplate, out var p));
        var a = p.PublicArea;
        Assert.AreEqual(TpmAlgId.Rsa, a.Type);
        Assert.AreEqual(TpmAlgId.Sha256, a.NameAlg);
        Assert.AreEqual(TpmaObject.FixedTPM | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth
            | TpmaObject.Restricted | TpmaObject.Decrypt, a.ObjectAttributes);
        Assert.AreEqual(TpmAlgId.Aes, a.Parameters.RsaDetail.Symmetric.Algorithm);
        Assert.AreEqual((ushort)128, a.Parameters.RsaDetail.Symmetric.KeyBits.Aes);
        Assert.AreEqual(TpmAlgId.Cfb, a.Parameters.RsaDetail.Symmetric.Mode.Aes);
        Assert.AreEqual(TpmAlgId.Null, a.Parameters.RsaDetail.Scheme.Scheme);
        Assert.AreEqual((ushort)2048, a.Parameters.RsaDetail.KeyBits);
        Assert.AreEqual(RsaStorageTemplate, Marshal(p));
    }

    [TestMethod]
    public void EccTemplateRoundTrips()
    {
        Assert.AreEqual(TpmRc.Success, Parse(EccStorageTemplate, out var p));
        Assert.AreEqual(TpmEccCurve.NistP256, p.PublicArea.Parameters.EccDetail.CurveID);
        Assert.AreEqual(EccStorageTemplate, Marshal(p));
    }

    [TestMethod]
    public void ZeroSizedPublicAreaIsTpmRcSize() => Assert.AreEqual(TpmRc.Size, Parse("0000", out _));

    /// <summary>The public area is read as it stands and must use exactly the size given (the reference's and swtpm's rule).</summary>
    [TestMethod]
    public void SizeBeyondThePublicAreaIsTpmRcSize() => Assert.AreEqual(TpmRc.Size, Parse("0200" + RsaStorageTemplate[4..], out _));

    [TestMethod]
    public void SizeLargerThanThePublicAreaIsTpmRcSize() => Assert.AreEqual(TpmRc.Size, Parse("001C" + RsaStorageTemplate[4..] + "0000", out _));

    [TestMethod]
    public void SizeSmallerThanThePublicAreaIsTpmRcSize() => Assert.AreEqual(TpmRc.Size, Parse("0018" + RsaStorageTemplate[4..], out _));

    [TestMethod]
    public void PublicAreaCutShortByTheBufferIsTpmRcInsufficient() => Assert.AreEqual(TpmRc.Insufficient, Parse("001A" + RsaStorageTemplate[4..^4], out _));

    [TestMethod]
    public void UnknownObjectTypeIsTpmRcType() => Assert.AreEqual(TpmRc.Type, Parse("001A" + "0099" + RsaStorageTemplate[8..], out _));

    [TestMethod]
    public void ReservedObjectAttributeIsTpmRcReservedBits() =>
        Assert.AreEqual(TpmRc.ReservedBits, Parse(RsaStorageTemplate.Replace("00030072", "00030073", StringComparison.Ordinal), out _));

    [TestMethod]
    public void NullNameAlgNeedsTheNullableUse()
    {
        string nullName = RsaStorageTemplate[..8] + "0010" + RsaStorageTemplate[12..];
        Assert.AreEqual(TpmRc.Hash, Parse(nullName, out _), "TPM2B_PUBLIC (Create, CreatePrimary)");
        Assert.AreEqual(TpmRc.Success, Parse(nullName, out _, allowNull: true), "TPM2B_PUBLIC+ (LoadExternal)");
    }

    [TestMethod]
    public void AesKeyOf64BitsIsTpmRcValue() =>
        Assert.AreEqual(TpmRc.Value, Parse(RsaStorageTemplate.Replace("000600800043", "000600400043", StringComparison.Ordinal), out _));

    [TestMethod]
    public void PcrSelectionLongerThanPcrSelectMaxIsTpmRcValue()
    {
        var r = new TpmReader(Convert.FromHexString("00000001" + "000B" + "04" + "FFFFFFFF"));
        Assert.AreEqual(TpmRc.Value, TpmlPcrSelection.Unmarshal(ref r, out _));
    }

    [TestMethod]
    public void DigestListOfMoreThanHashCountIsTpmRcSize()
    {
        var r = new TpmReader(Convert.FromHexString("00000005"));
        Assert.AreEqual(TpmRc.Size, TpmlDigestValues.Unmarshal(ref r, out _));
    }

    [TestMethod]
    public void TpmtHaOfSha256ReadsItsDigestAndNullIsRefused()
    {
        var r = new TpmReader(Convert.FromHexString("000B" + new string('A', 64)));
        Assert.AreEqual(TpmRc.Success, TpmtHa.Unmarshal(ref r, out var ha));
        Assert.AreEqual(new string('A', 64), Convert.ToHexString(ha.Digest.Sha256));
        r = new TpmReader(Convert.FromHexString("0010"));
        Assert.AreEqual(TpmRc.Hash, TpmtHa.Unmarshal(ref r, out _));
    }

    [TestMethod]
    public void CommandParameterErrorsCarryTheParameterNumber()
    {
        // TPM2_NV_Write: data (TPM2B_MAX_NV_BUFFER, at most MAX_NV_BUFFER_SIZE = 1024 bytes), offset.
        var bytes = new byte[2 + 1025 + 2];
        bytes[0] = 0x04;
        bytes[1] = 0x01;
        var r = new TpmReader(bytes);
        var input = new NvWriteIn();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), input.UnmarshalParameters(ref r));
        Assert.AreEqual(0x1D5u, TpmRc.Size.ForParameter(1).Code);
    }

    [TestMethod]
    public void SizedBufferFromRefusesMoreThanItsMaximum()
    {
        Assert.AreEqual(32, Tpm2bDigest.From(new byte[32]).Span.Length);
        Assert.ThrowsExactly<ArgumentException>(() => Tpm2bDigest.From(new byte[Tpm2bDigest.MaxSize - 1]));
    }
}
