using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Pcr;

/// <summary>_TPM_Hash_Start/Data/End (Part 3 §6.3–6.5): DRTM after Startup, H-CRTM before it.</summary>
[TestClass]
public sealed class HashSignalTests
{
    static byte[] ReadSha256(EngineHost h, int pcr)
    {
        var r = h.Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, pcr));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        // pcrUpdateCounter(4) | TPML_PCR_SELECTION with one 3-octet select (10) | count(4) | size(2) | digest
        return r.Parameters.AsSpan(20, 32).ToArray();
    }

    static void Signal(EngineHost h, byte[] data)
    {
        Assert.IsTrue(h.Tpm.HashStart());
        Assert.IsTrue(h.Tpm.HashData(data));
        Assert.IsTrue(h.Tpm.HashEnd());
    }

    [TestMethod]
    public void HashEndAfterStartupResetsAndExtendsPcr17()
    {
        var h = new EngineHost();
        Assert.IsTrue(ReadSha256(h, 17).All(b => b == 0xFF), "PCR 17 starts all-FF until a DRTM event");
        Signal(h, [1, 2, 3]);
        var expected = SHA256.HashData([.. new byte[32], .. SHA256.HashData([1, 2, 3])]);
        CollectionAssert.AreEqual(expected, ReadSha256(h, 17));
        Assert.IsTrue(ReadSha256(h, 18).All(b => b == 0), "the other dynamic PCRs reset to zero");
    }

    [TestMethod]
    public void HashEndBeforeStartupMeasuresIntoPcr0AtLocality4()
    {
        var h = new EngineHost(startup: false);
        Signal(h, [9, 9]);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        var initial = new byte[32];
        initial[^1] = 4;
        var expected = SHA256.HashData([.. initial, .. SHA256.HashData([9, 9])]);
        CollectionAssert.AreEqual(expected, ReadSha256(h, 0));
    }

    [TestMethod]
    public void StartupStateAfterAnHcrtmEventIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State)).Rc);
        h.Restart();
        Signal(h, [7]);
        Assert.AreEqual(TpmRc.Value.ForParameter(1), h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
    }
}
