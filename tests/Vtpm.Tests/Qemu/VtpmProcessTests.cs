using System.Net.Sockets;
using Vtpm.Tests.Support;
using static Vtpm.Tests.Support.ControlWire;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Qemu;

/// <summary>The vtpm process as a QEMU user runs it: --ctrl unixio only, pid file, SIGTERM, terminate.</summary>
[TestClass]
public sealed class VtpmProcessTests
{
    string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-proc-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    [TestMethod]
    public void Sigterm_SendsTpm2ShutdownFirst_AndRemovesThePidFile()
    {
        string state = Path.Combine(_dir, "state");
        using (var v = new VtpmInstance(Path.Combine(_dir, "1"), state, "2.0"))
        {
            using var ctrl = Connect(v.ControlPath);
            Assert.AreEqual(0u, Call(ctrl, 0x02, 0)); // CMD_INIT
            Assert.AreEqual(TpmRc.Success, v.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build()).Rc);
            v.Terminate();
            Assert.IsTrue(v.WaitForExit(TimeSpan.FromSeconds(15)));
            Assert.AreEqual(0, v.Process.ExitCode);
            Assert.IsFalse(File.Exists(v.PidFile));
            Assert.IsTrue(SpinWait.SpinUntil(() => v.Output.Contains("automatic TPM2_Shutdown(CLEAR): TPM_RC_SUCCESS", StringComparison.Ordinal), 2000), v.Output);
        }
        // The next run on the same state starts cleanly.
        using var again = new VtpmInstance(Path.Combine(_dir, "2"), state, "2.0");
        using var c2 = Connect(again.ControlPath);
        Assert.AreEqual(0u, Call(c2, 0x02, 0));
        Assert.AreEqual(TpmRc.Success, again.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build()).Rc);
    }

    [TestMethod]
    public void CtrlTerminate_ExitsWhenTheControlClientGoesAway()
    {
        using var v = new VtpmInstance(_dir, Path.Combine(_dir, "state"), "2.0", terminate: true);
        using (var ctrl = Connect(v.ControlPath)) Assert.AreEqual(0u, Call(ctrl, 0x02, 0));
        Assert.IsTrue(v.WaitForExit(TimeSpan.FromSeconds(15)), v.Output);
        Assert.AreEqual(0, v.Process.ExitCode);
    }

    [TestMethod]
    public void CtrlOnly_OpensNoDataPort()
    {
        var o = Vtpm.Emulator.Options.CommandLine.Parse(["socket", "--tpm2", "--tpmstate", "dir=/tmp/x", "--ctrl", "type=unixio,path=/tmp/x.sock,terminate"],
            new Dictionary<string, string?>());
        Assert.IsNull(o.Server, "QEMU passes the data channel with CMD_SET_DATAFD");
        Assert.IsTrue(o.ControlTerminate);
    }
}
