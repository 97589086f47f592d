using System.Buffers.Binary;
using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// What SeaBIOS and the guest kernel rely on beyond the command set: _TPM_Init semantics, Startup locality,
/// the DRTM / H-CRTM PCRs and the established flag. Expected values are those swtpm 0.7.1 (libtpms) gives
/// for the same sequences.
/// </summary>
[TestClass]
public sealed class PlatformBehaviourTests
{
    static Cmd StartupClear => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear);

    static byte[] ReadPcr(EngineHost h, int pcr)
    {
        var r = h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, pcr));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        Assert.AreEqual(1u, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(14)));
        return p.AsSpan(20, 32).ToArray();
    }

    static byte[] Value(byte last)
    {
        var v = new byte[32];
        v[^1] = last;
        return v;
    }

    static byte[] ExtendFrom(byte[] start, byte[] digest) => SHA256.HashData([.. start, .. digest]);

    [TestMethod]
    [DataRow((byte)1)]
    [DataRow((byte)2)]
    [DataRow((byte)4)]
    public void Startup_FromLocality124_IsLocality(byte locality)
    {
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Locality, h.Send(StartupClear, locality).Rc);
        Assert.AreEqual(TpmRc.Success, h.Send(StartupClear, 0).Rc, "still not started: a later Startup works");
    }

    [TestMethod]
    public void Startup_FromLocality3_SetsPcr0To3()
    {
        var h = new EngineHost(startup: false);
        Assert.AreEqual(TpmRc.Success, h.Send(StartupClear, 3).Rc);
        CollectionAssert.AreEqual(Value(3), ReadPcr(h, 0));
    }

    [TestMethod]
    public void TpmInit_WithoutShutdown_ThenStartupClear_IsATpmReset()
    {
        // QEMU's CMD_INIT on system_reset; the guest then sends Startup(CLEAR) again.
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.PcrExtend).Handle(16).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(new byte[32])).Rc);
        Assert.AreNotEqual(Convert.ToHexString(new byte[32]), Convert.ToHexString(ReadPcr(h, 16)));
        h.Tpm.Init();
        Assert.AreEqual(TpmRc.Initialize, h.Send(Cmd.Of(TpmCc.GetRandom).U16(8)).Rc, "Startup needed after _TPM_Init");
        Assert.AreEqual(TpmRc.Success, h.Send(StartupClear).Rc);
        CollectionAssert.AreEqual(new byte[32], ReadPcr(h, 16));
    }

    [TestMethod]
    public void DrtmSequence_AfterStartup_ResetsPcrs17To22_AndExtendsPcr17()
    {
        var h = new EngineHost();
        for (int i = 17; i <= 22; i++) CollectionAssert.AreEqual(Enumerable.Repeat((byte)0xFF, 32).ToArray(), ReadPcr(h, i), $"PCR {i} at Startup");
        Assert.IsTrue(h.Tpm.HashStart());
        Assert.IsTrue(h.Tpm.HashData("abc"u8));
        Assert.IsTrue(h.Tpm.HashEnd());
        CollectionAssert.AreEqual(ExtendFrom(new byte[32], SHA256.HashData("abc"u8)), ReadPcr(h, 17));
        for (int i = 18; i <= 22; i++) CollectionAssert.AreEqual(new byte[32], ReadPcr(h, i), $"PCR {i}");
        CollectionAssert.AreEqual(new byte[32], ReadPcr(h, 23));
    }

    [TestMethod]
    public void HcrtmSequence_BeforeStartup_StartsPcr0At4_AndExtendsIt()
    {
        var h = new EngineHost(startup: false);
        Assert.IsTrue(h.Tpm.HashStart());
        Assert.IsTrue(h.Tpm.HashData("abc"u8));
        Assert.IsTrue(h.Tpm.HashEnd());
        Assert.AreEqual(TpmRc.Success, h.Send(StartupClear).Rc);
        CollectionAssert.AreEqual(ExtendFrom(Value(4), SHA256.HashData("abc"u8)), ReadPcr(h, 0));
        CollectionAssert.AreEqual(Enumerable.Repeat((byte)0xFF, 32).ToArray(), ReadPcr(h, 17), "no DRTM");
    }

    [TestMethod]
    public void HcrtmSequence_ThenTpmInit_IsForgotten()
    {
        var h = new EngineHost(startup: false);
        Assert.IsTrue(h.Tpm.HashStart());
        Assert.IsTrue(h.Tpm.HashEnd());
        h.Tpm.Init();
        Assert.AreEqual(TpmRc.Success, h.Send(StartupClear).Rc);
        CollectionAssert.AreEqual(new byte[32], ReadPcr(h, 0));
    }

    [TestMethod]
    public void EstablishedFlag_SetByHashStart_ClearedOnlyFromLocality3Or4()
    {
        var h = new EngineHost();
        Assert.IsFalse(h.Tpm.TpmEstablished);
        Assert.IsTrue(h.Tpm.HashStart());
        Assert.IsTrue(h.Tpm.TpmEstablished);
        Assert.IsFalse(h.Tpm.ResetTpmEstablished(0));
        Assert.IsFalse(h.Tpm.ResetTpmEstablished(2));
        Assert.IsTrue(h.Tpm.TpmEstablished);
        Assert.IsTrue(h.Tpm.ResetTpmEstablished(3));
        Assert.IsFalse(h.Tpm.TpmEstablished);
    }
}
