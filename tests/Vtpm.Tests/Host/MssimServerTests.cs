using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

[TestClass]
public sealed class MssimServerTests
{
    TpmHost _host = null!;
    MssimServer _server = null!;

    [TestInitialize]
    public void Start()
    {
        _host = new TpmHost(new MemoryStateStore(), NullLogger.Instance);
        _server = new MssimServer(new EndpointOptions("127.0.0.1", 0, null), NullLogger.Instance);
        _server.Start(_host);
    }

    [TestCleanup]
    public async Task Stop()
    {
        _host.RequestStop("test over");
        await _server.DisposeAsync();
        _host.Dispose();
    }

    SocketClient Command() => SocketClient.Tcp(_server.Port);
    SocketClient Platform() => SocketClient.Tcp(_server.Port + 1);

    static byte[] Startup => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();
    static byte[] GetRandom => Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    static byte[] SendCommand(SocketClient c, byte[] command, byte locality = 0)
    {
        var frame = new byte[9 + command.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, MssimServer.SendCommand);
        frame[4] = locality;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)command.Length);
        command.CopyTo(frame, 9);
        c.Send(frame);
        uint size = c.ReadU32();
        var response = c.Read((int)size);
        Assert.AreEqual(0u, c.ReadU32(), "TPM_SEND_COMMAND ends with a u32 0");
        return response;
    }

    void PowerOn()
    {
        using var p = Platform();
        Assert.AreEqual(0u, p.SendU32(MssimServer.SignalPowerOn).ReadU32());
        Assert.AreEqual(0u, p.SendU32(MssimServer.SignalNvOn).ReadU32());
    }

    [TestMethod]
    public void Platform_PortIsCommandPortPlusOne() => Assert.AreEqual(_server.Port + 1, _server.Platform!.Port);

    [TestMethod]
    public void Handshake_ReturnsServerVersion1AndEndpointFlags()
    {
        using var c = Command();
        c.SendU32(MssimServer.RemoteHandshake, 1);
        Assert.AreEqual(1u, c.ReadU32());
        Assert.AreEqual(0x0Du, c.ReadU32(), "platform available | raw mode | supports PP");
        Assert.AreEqual(0u, c.ReadU32());
    }

    [TestMethod]
    public void Handshake_WithClientVersion0_EndsTheSession()
    {
        using var c = Command();
        c.SendU32(MssimServer.RemoteHandshake, 0);
        Assert.IsTrue(c.IsClosedByServer());
    }

    [TestMethod]
    public void PowerOn_Startup_GetRandom_Succeed()
    {
        PowerOn();
        using var c = Command();
        Assert.AreEqual(TpmRc.Success, new Rsp(SendCommand(c, Startup), false).Rc);
        var r = new Rsp(SendCommand(c, GetRandom), false);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(10, r.Parameters.Length, "TPM2B_DIGEST of 8 bytes");
        Assert.AreEqual(8, r.Parameters[1]);
    }

    [TestMethod]
    public void Command_WhilePoweredOff_GetsAnEmptyResponse()
    {
        using var c = Command();
        Assert.AreEqual(0, SendCommand(c, Startup).Length);
    }

    [TestMethod]
    public void PowerOff_ThenCommand_GetsAnEmptyResponse()
    {
        PowerOn();
        using (var p = Platform()) Assert.AreEqual(0u, p.SendU32(MssimServer.SignalPowerOff).ReadU32());
        using var c = Command();
        Assert.AreEqual(0, SendCommand(c, Startup).Length);
    }

    [TestMethod]
    public void Reset_RequiresStartupAgain()
    {
        PowerOn();
        using var c = Command();
        Assert.AreEqual(TpmRc.Success, new Rsp(SendCommand(c, Startup), false).Rc);
        using (var p = Platform()) Assert.AreEqual(0u, p.SendU32(MssimServer.SignalReset).ReadU32());
        Assert.AreEqual(TpmRc.Initialize, new Rsp(SendCommand(c, GetRandom), false).Rc);
        Assert.AreEqual(TpmRc.Success, new Rsp(SendCommand(c, Startup), false).Rc);
    }

    [TestMethod]
    [DataRow(MssimServer.SignalPhysPresOn, true)]
    [DataRow(MssimServer.SignalPhysPresOff, false)]
    public void PhysicalPresence_SignalsReachThePlatform(uint signal, bool expected)
    {
        _host.Engine.Platform.PhysicalPresence = !expected;
        using var p = Platform();
        Assert.AreEqual(0u, p.SendU32(signal).ReadU32());
        Assert.AreEqual(expected, _host.Engine.Platform.PhysicalPresence);
    }

    [TestMethod]
    public void CancelOnOff_SetAndClearTheCancelLine()
    {
        using var p = Platform();
        Assert.AreEqual(0u, p.SendU32(MssimServer.SignalCancelOn).ReadU32());
        Assert.IsTrue(_host.Engine.Platform.CancelRequested);
        Assert.AreEqual(0u, p.SendU32(MssimServer.SignalCancelOff).ReadU32());
        Assert.IsFalse(_host.Engine.Platform.CancelRequested);
    }

    [TestMethod]
    [DataRow(MssimServer.SignalNvOff)]
    [DataRow(MssimServer.SignalKeyCacheOn)]
    [DataRow(MssimServer.SignalKeyCacheOff)]
    [DataRow(MssimServer.SignalRestart)]
    public void PlatformSignals_AreAcknowledgedWithZero(uint signal)
    {
        using var p = Platform();
        Assert.AreEqual(0u, p.SendU32(signal).ReadU32());
    }

    [TestMethod]
    public void GetCommandResponseSizes_ReportsTheLargestCommandSinceTheLastQuery()
    {
        PowerOn();
        using var c = Command();
        SendCommand(c, Startup);
        SendCommand(c, GetRandom);
        using var p = Platform();
        p.SendU32(MssimServer.GetCommandResponseSizes);
        Assert.AreEqual(16u, p.ReadU32());
        Assert.AreEqual((uint)Startup.Length, p.ReadU32());
        Assert.AreEqual((uint)TpmCc.Startup, p.ReadU32());
        Assert.AreEqual(20u, p.ReadU32(), "GetRandom(8) response: 10 + 2 + 8");
        Assert.AreEqual(0u, p.ReadU32(), "the largest response's code field: TPM_RC_SUCCESS");
        Assert.AreEqual(0u, p.ReadU32());
    }

    [TestMethod]
    public void UnknownPlatformRequest_IsAnsweredWith1AndEndsTheSession()
    {
        using var p = Platform();
        Assert.AreEqual(1u, p.SendU32(99).ReadU32());
        Assert.IsTrue(p.IsClosedByServer());
    }

    [TestMethod]
    public void OversizedCommand_DisconnectsOnlyThatClient()
    {
        PowerOn();
        using var good = Command();
        using var bad = Command();
        bad.SendU32(MssimServer.SendCommand).Send(0).SendU32(1_000_000);
        Assert.IsTrue(bad.IsClosedByServer());
        Assert.AreEqual(TpmRc.Success, new Rsp(SendCommand(good, Startup), false).Rc);
    }

    [TestMethod]
    public void UnknownCommandPortRequest_EndsTheSession()
    {
        using var c = Command();
        c.SendU32(77);
        Assert.IsTrue(c.IsClosedByServer());
    }

    [TestMethod]
    public void SessionEnd_ClosesTheConnectionButNotTheServer()
    {
        using (var c = Command())
        {
            c.SendU32(MssimServer.SessionEnd);
            Assert.IsTrue(c.IsClosedByServer());
        }
        Assert.IsFalse(_host.Stopping.IsCancellationRequested);
        using var again = Command();
        again.SendU32(MssimServer.RemoteHandshake, 1);
        Assert.AreEqual(1u, again.ReadU32());
    }

    [TestMethod]
    public void Stop_AsksTheHostToStop()
    {
        using var c = Command();
        c.SendU32(MssimServer.Stop);
        Assert.IsTrue(c.IsClosedByServer());
        Assert.IsTrue(SpinWait.SpinUntil(() => _host.Stopping.IsCancellationRequested, 5000));
    }

    [TestMethod]
    public void HashSignals_AreAcknowledgedAndSetTpmEstablished()
    {
        PowerOn();
        using var c = Command();
        Assert.AreEqual(0u, c.SendU32(MssimServer.SignalHashStart).ReadU32());
        Assert.AreEqual(0u, c.SendU32(MssimServer.SignalHashData, 3).Send(1, 2, 3).ReadU32());
        Assert.AreEqual(0u, c.SendU32(MssimServer.SignalHashEnd).ReadU32());
        Assert.IsTrue(_host.Engine.TpmEstablished);
        CollectionAssert.AreEqual(System.Security.Cryptography.SHA256.HashData([1, 2, 3]), _host.Engine.LastHashSignalDigests![TpmAlgId.Sha256]);
    }

    [TestMethod]
    public void CommandSplitAcrossWrites_IsReassembled()
    {
        PowerOn();
        using var c = Command();
        c.SendU32(MssimServer.SendCommand);
        c.Send(0);
        c.SendU32((uint)Startup.Length);
        c.Send(Startup[..3]);
        Thread.Sleep(20);
        c.Send(Startup[3..]);
        uint size = c.ReadU32();
        Assert.AreEqual(TpmRc.Success, new Rsp(c.Read((int)size), false).Rc);
        Assert.AreEqual(0u, c.ReadU32());
    }
}
