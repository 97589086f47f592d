using Vtpm.Tests.Support;
using Vtpm.Tpm2.State;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Nv;

/// <summary>
/// The NV section of the permanent state is a stored format: state directories written by an earlier build must
/// load. The blob below was written before the NV engine moved onto the generated TPMS_NV_PUBLIC.
/// </summary>
[TestClass]
public sealed class NvStateFormatTests
{
    static readonly uint[] Indices = [TestIndex, TestIndex + 1, TestIndex + 3, TestIndex + 4, TestIndex + 5, TestIndex + 6, 0x01C00000];

    /// <summary>NvSubsystem.WritePermanent after <see cref="Populate"/>, by the build before the port.</summary>
    const string Blob = ""
        + "00000000000000030000000701500010000b200600060000002001080f161d242b323940474e555c636a71787f868d94"
        + "9ba2a9b0b7bec5ccd3da00280000000673656372657400000028ffffff0102030405ffffffffffffffffffffffffffff"
        + "ffffffffffffffffffffffffffffffffffff01500011000b200600160000000000080000000000000008000000000000"
        + "0002015000130004200600260000000000080000000000000008000000000000800101500014000d2006004600000040"
        + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000000000000000000000000000400000000178000000407682b6b84c6f692545a896ad210299bcc6f74e189d"
        + "829e165739b11dd83b6f2c8cfacf27e812bf064df756d6235ac33c062b89ecb80f8215516dbbb844ce84800150001500"
        + "0c800648060000000000100000000000000010ffffffffffffffffffffffffffffffff01500016000b22060092000000"
        + "0000080000000370696e00000008000000000000000501c00000000b400104010000002001080f161d242b323940474e"
        + "555c636a71787f868d949ba2a9b0b7bec5ccd3da00040000000000000004ffffffff";

    /// <summary>Every kind of index, written, locked, a policy, an authValue with trailing zeros, the highest counter of an undefined one.</summary>
    static EngineHost Populate()
    {
        var h = new EngineHost();
        const TpmaNv rw = OwnerRw | AuthRw;
        var policy = new byte[32];
        for (int i = 0; i < policy.Length; i++) policy[i] = (byte)(i * 7 + 1);
        Ok(h.Send(Define(TestIndex, rw, 40, "secret\0\0", policy: policy)));
        Ok(h.Send(Write([1, 2, 3, 4, 5], offset: 3)));
        Ok(h.Send(Define(TestIndex + 1, rw.WithType(TpmNt.Counter), 8)));
        Ok(h.Send(Increment(TestIndex + 1)));
        Ok(h.Send(Increment(TestIndex + 1)));
        Ok(h.Send(Define(TestIndex + 2, rw.WithType(TpmNt.Counter), 8)));
        for (int i = 0; i < 3; i++) Ok(h.Send(Increment(TestIndex + 2)));
        Ok(h.Send(Undefine(TestIndex + 2)));
        Ok(h.Send(Define(TestIndex + 3, rw.WithType(TpmNt.Bits), 8, alg: TpmAlgId.Sha1)));
        Ok(h.Send(Cmd.Of(TpmCc.NvSetBits).Handle(TpmRh.Owner).Handle(TestIndex + 3).Password().U64(0x8001)));
        Ok(h.Send(Define(TestIndex + 4, rw.WithType(TpmNt.Extend), 64, "x", TpmAlgId.Sha512, policy: new byte[64])));
        Ok(h.Send(Cmd.Of(TpmCc.NvExtend).Handle(TpmRh.Owner).Handle(TestIndex + 4).Password().B2("abc"u8)));
        Ok(h.Send(Define(TestIndex + 5, rw | TpmaNv.WriteStClear | TpmaNv.ReadStClear, 16, alg: TpmAlgId.Sha384)));
        Ok(h.Send(Cmd.Of(TpmCc.NvWriteLock).Handle(TpmRh.Owner).Handle(TestIndex + 5).Password()));
        Ok(h.Send(Define(TestIndex + 6, (OwnerRw | TpmaNv.AuthRead | TpmaNv.NoDa).WithType(TpmNt.PinPass), 8, "pin")));
        Ok(h.Send(Cmd.Of(TpmCc.NvWrite).Handle(TpmRh.Owner).Handle(TestIndex + 6).Password().U16(8).U32(0).U32(5).U16(0)));
        Ok(h.Send(Define(0x01C00000, TpmaNv.PpRead | TpmaNv.PpWrite | TpmaNv.PlatformCreate | TpmaNv.PolicyDelete, 4, authHandle: TpmRh.Platform, policy: policy)));
        return h;
    }

    static byte[] Save(EngineHost h)
    {
        var w = new StateWriter();
        h.Tpm.Nv.WritePermanent(w);
        return w.ToArray();
    }

    [TestMethod]
    public void SameIndicesWriteTheSameBytes()
    {
        Assert.AreEqual(Blob, Convert.ToHexString(Save(Populate())).ToLowerInvariant());
    }

    [TestMethod]
    public void StoredBlobLoadsSavesBackByteForByteAndAnswersAsTheIndicesDid()
    {
        var live = Populate();
        var loaded = new EngineHost();
        loaded.Tpm.Nv.ReadPermanent(new StateReader(Convert.FromHexString(Blob)));
        Assert.AreEqual(Blob, Convert.ToHexString(Save(loaded)).ToLowerInvariant());
        foreach (uint index in Indices)
            CollectionAssert.AreEqual(live.Send(ReadPublic(index)).Bytes, loaded.Send(ReadPublic(index)).Bytes, $"NV_ReadPublic 0x{index:X8}");
        CollectionAssert.AreEqual(Data(live.Send(Read(40))), Data(loaded.Send(Read(40))));
        Assert.AreEqual(TpmRc.Success, loaded.Tss(Read(40, auth: TestIndex, password: "secret")).Rc, "authValue without its trailing zeros");
        Assert.AreEqual(3ul, loaded.Tpm.Nv.MaxCounter);
    }
}
