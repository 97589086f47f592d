using System.Buffers.Binary;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Nv;

/// <summary>PIN Pass / PIN Fail indices; the expected values are what swtpm does for the same sequence.</summary>
[TestClass]
public sealed class NvPinTests
{
    static byte[] Pin(uint count, uint limit)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(b, count);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), limit);
        return b;
    }

    static Support.EngineHost Define(TpmNt type, TpmaNv extra = TpmaNv.None)
    {
        var h = new Support.EngineHost();
        Ok(h.Send(Nv.Define((OwnerRw | TpmaNv.AuthRead | extra).WithType(type), 8, "pin")));
        return h;
    }

    static uint PinCount(Support.EngineHost h) => BinaryPrimitives.ReadUInt32BigEndian(Data(h.Send(Read(8))));

    static TpmRc ReadWithPin(Support.EngineHost h, string pin) => h.Tss(Read(8, auth: TestIndex, password: pin)).Rc;

    [TestMethod]
    public void PinFailCountsFailuresAsBadAuth()
    {
        var h = Define(TpmNt.PinFail, TpmaNv.NoDa);
        Ok(h.Send(Write(Pin(0, 2))));
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), ReadWithPin(h, "bad"));
        Assert.AreEqual(1u, PinCount(h));
    }

    [TestMethod]
    public void PinFailSuccessResetsCount()
    {
        var h = Define(TpmNt.PinFail, TpmaNv.NoDa);
        Ok(h.Send(Write(Pin(0, 2))));
        ReadWithPin(h, "bad");
        Assert.AreEqual(TpmRc.Success, ReadWithPin(h, "pin"));
        Assert.AreEqual(0u, PinCount(h));
    }

    [TestMethod]
    public void PinFailAtLimitIsAuthUnavailable()
    {
        var h = Define(TpmNt.PinFail, TpmaNv.NoDa);
        Ok(h.Send(Write(Pin(0, 2))));
        ReadWithPin(h, "bad");
        ReadWithPin(h, "bad");
        Assert.AreEqual(TpmRc.AuthUnavailable, ReadWithPin(h, "pin"));
    }

    [TestMethod]
    public void UnwrittenPinPassIsAuthUnavailable()
    {
        var h = Define(TpmNt.PinPass);
        Assert.AreEqual(TpmRc.AuthUnavailable, ReadWithPin(h, "pin"));
    }

    [TestMethod]
    public void PinPassCountsSuccesses()
    {
        var h = Define(TpmNt.PinPass);
        Ok(h.Send(Write(Pin(0, 2))));
        Assert.AreEqual(TpmRc.Success, ReadWithPin(h, "pin"));
        Assert.AreEqual(1u, PinCount(h));
    }

    [TestMethod]
    public void PinPassFailureIsDaCountedAndLeavesCount()
    {
        var h = Define(TpmNt.PinPass);
        Ok(h.Send(Write(Pin(0, 2))));
        Assert.AreEqual(TpmRc.AuthFail.ForSession(1), ReadWithPin(h, "bad"));
        Assert.AreEqual(0u, PinCount(h));
        Assert.AreEqual(1u, h.Tpm.DictionaryAttack.FailedTries);
    }

    [TestMethod]
    public void PinPassAtLimitIsAuthUnavailable()
    {
        var h = Define(TpmNt.PinPass);
        Ok(h.Send(Write(Pin(0, 2))));
        ReadWithPin(h, "pin");
        ReadWithPin(h, "pin");
        Assert.AreEqual(TpmRc.AuthUnavailable, ReadWithPin(h, "pin"));
    }
}
