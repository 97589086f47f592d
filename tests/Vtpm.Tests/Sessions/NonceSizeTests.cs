using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Sessions;

[TestClass]
public sealed class NonceSizeTests
{
    // The reference implementation (and swtpm) size nonceTPM like nonceCaller.
    [TestMethod]
    [DataRow(16)]
    [DataRow(20)]
    [DataRow(32)]
    public void NonceTpmHasTheSizeOfNonceCaller(int size)
    {
        var h = new EngineHost();
        var r = h.Send(Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
            .B2(new byte[size]).B2([]).U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256), responseHandle: true);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(size, (r.Parameters[0] << 8) | r.Parameters[1]);
    }

    [TestMethod]
    public void SessionsTagWithoutAuthorizationSizeIsInsufficient()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.GetRandom).Build();
        cmd[1] = 0x02;
        Assert.AreEqual(TpmRc.Insufficient, h.Send(cmd).Rc);
    }
}
