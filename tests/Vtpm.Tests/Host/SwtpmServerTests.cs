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
public sealed class SwtpmServerTests
{
    TpmHost _host = null!;
    SwtpmServer _server = null!;
    string _dir = "";

    public TestContext TestContext { get; set; } = null!;

    void Start(Action<HostOptions>? configure = null, bool unix = false)
    {
        _dir = Directory.CreateTempSubdirectory("vtpm-sw-").FullName;
        var o = new HostOptions
        {
            Mode = HostMode.Socket,
            Server = unix ? new EndpointOptions(null, 0, Path.Combine(_dir, "data.sock")) : new EndpointOptions("127.0.0.1", 0, null),
            Control = unix ? new EndpointOptions(null, 0, Path.Combine(_dir, "ctrl.sock")) : new EndpointOptions("127.0.0.1", 0, null),
        };
        configure?.Invoke(o);
        _host = new TpmHost(new DirectoryStateStore(Path.Combine(_dir, "state")), NullLogger.Instance)
        {
            StartupFlag = o.Startup,
            AutoShutdown = !o.DisableAutoShutdown,
        };
        _server = new SwtpmServer(o, NullLogger.Instance);
        _server.Start(_host);
    }

    [TestCleanup]
    public async Task Stop()
    {
        if (_server is null) return;
        _host.RequestStop("test over");
        await _server.DisposeAsync();
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    SocketClient Data() => _server.Data!.Endpoint.IsUnix ? SocketClient.Unix(_server.Data.Endpoint.UnixPath!) : SocketClient.Tcp(_server.Data.Port);
    SocketClient Ctrl() => _server.Control!.Endpoint.IsUnix ? SocketClient.Unix(_server.Control.Endpoint.UnixPath!) : SocketClient.Tcp(_server.Control.Port);

    static byte[] Startup => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();
    static byte[] GetRandom => Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    static Rsp Send(SocketClient c, byte[] command) => new(c.Send(command).ReadTpmResponse(), false);

    void CtrlInit()
    {
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdInit, 0).ReadU32());
    }

    [TestMethod]
    public void DataBeforeInit_GetsTpmRcFailure_AsSwtpmAnswersQemusProbe()
    {
        Start();
        using var d = Data();
        byte[] readClock = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81];
        CollectionAssert.AreEqual(new byte[] { 0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01 }, d.Send(readClock).ReadTpmResponse());
    }

    [TestMethod]
    public void Init_ThenStartupAndGetRandom_Succeed()
    {
        Start();
        CtrlInit();
        using var d = Data();
        Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
        var r = Send(d, GetRandom);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(8, r.Parameters[1]);
    }

    [TestMethod]
    public void NotNeedInit_WithStartupClear_IsReadyAtOnce()
    {
        Start(o => { o.NotNeedInit = true; o.Startup = StartupFlag.Clear; });
        _host.Init(autoShutdown: false); // what Program does for not-need-init
        using var d = Data();
        Assert.AreEqual(TpmRc.Success, Send(d, GetRandom).Rc);
    }

    [TestMethod]
    public void GetCapability_ReturnsTheImplementedMask()
    {
        Start();
        using var c = Ctrl();
        c.SendU32(SwtpmServer.CmdGetCapability);
        Assert.AreEqual(0u, c.ReadU32(), "upper half of the 64-bit ptm_cap");
        uint mask = c.ReadU32();
        Assert.AreEqual(SwtpmServer.Capabilities, mask);
        // Bits 0-14 and 16: with SET_DATAFD (12), GET_INFO (14), LOCK_STORAGE (16); not SEND_COMMAND_HEADER (15).
        Assert.AreEqual(0x17FFFu, mask);
    }

    [TestMethod]
    [DataRow(0xFFu)]
    [DataRow(0x14u)] // after LOCK_STORAGE
    [DataRow(0x00u)]
    public void UnknownControlCode_IsAnsweredWithBadOrdinal(uint code)
    {
        Start();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, c.SendU32(code).ReadU32());
        // The connection stays usable.
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdGetConfig).ReadU32());
    }

    [TestMethod]
    public void SetLocality_FourByteForm_SetsTheLocality()
    {
        Start();
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdSetLocality).Send(3, 0, 0, 0).ReadU32());
        Assert.AreEqual(3, _host.Locality);
    }

    [TestMethod]
    public void SetLocality_OneByteFormOfTheSwtpmTcti_SetsTheLocality()
    {
        Start();
        using var c = Ctrl();
        Assert.AreEqual(0u, c.Send(0, 0, 0, 5, 2).ReadU32());
        Assert.AreEqual(2, _host.Locality);
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdGetConfig).ReadU32(), "the stream is still in step");
    }

    [TestMethod]
    public void SetLocality_Above4_IsBadLocality()
    {
        Start();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadLocality, c.SendU32(SwtpmServer.CmdSetLocality).Send(5, 0, 0, 0).ReadU32());
        Assert.AreEqual(0, _host.Locality);
    }

    [TestMethod]
    public void GetTpmEstablished_BeforeInit_IsBadOrdinal()
    {
        Start();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, c.SendU32(SwtpmServer.CmdGetTpmEstablished).ReadU32());
    }

    [TestMethod]
    public void HashSequence_SetsEstablished_AndResetNeedsLocality3Or4()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        c.SendU32(SwtpmServer.CmdGetTpmEstablished);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, c.Read(8));
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdHashStart).ReadU32());
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdHashData, 2).Send(0xAB, 0xCD).ReadU32());
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdHashEnd).ReadU32());
        c.SendU32(SwtpmServer.CmdGetTpmEstablished);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 1, 0, 0, 0 }, c.Read(8));
        Assert.AreEqual(SwtpmServer.TpmBadLocality, c.SendU32(SwtpmServer.CmdResetTpmEstablished).Send(0, 0, 0, 0).ReadU32());
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdResetTpmEstablished).Send(3, 0, 0, 0).ReadU32());
        c.SendU32(SwtpmServer.CmdGetTpmEstablished);
        Assert.AreEqual(0, c.Read(8)[4]);
    }

    [TestMethod]
    public void HashData_WithoutHashStart_Fails()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmFail, c.SendU32(SwtpmServer.CmdHashData, 1).Send(1).ReadU32());
        Assert.AreEqual(SwtpmServer.TpmFail, c.SendU32(SwtpmServer.CmdHashEnd).ReadU32());
    }

    [TestMethod]
    public void HashData_Oversized_DisconnectsTheControlClient()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmFail, c.SendU32(SwtpmServer.CmdHashData, 5000).ReadU32());
        Assert.IsTrue(c.IsClosedByServer());
    }

    [TestMethod]
    public void SetBufferSize_WhileRunning_IsBadOrdinal_AndWorksAfterStop()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, c.SendU32(SwtpmServer.CmdSetBufferSize, 0).ReadU32());
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdStop).ReadU32());
        c.SendU32(SwtpmServer.CmdSetBufferSize, 0);
        CollectionAssert.AreEqual(new uint[] { 0, 4096, 2808, 4096 }, new[] { c.ReadU32(), c.ReadU32(), c.ReadU32(), c.ReadU32() });
        c.SendU32(SwtpmServer.CmdSetBufferSize, 3968);
        CollectionAssert.AreEqual(new uint[] { 0, 3968, 2808, 4096 }, new[] { c.ReadU32(), c.ReadU32(), c.ReadU32(), c.ReadU32() });
        c.SendU32(SwtpmServer.CmdSetBufferSize, 100);
        Assert.AreEqual(0u, c.ReadU32());
        Assert.AreEqual(2808u, c.ReadU32(), "clamped to the minimum");
        c.Read(8);
    }

    [TestMethod]
    public void Stop_PowersTheTpmOff()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdStop).ReadU32());
        using var d = Data();
        Assert.AreEqual(TpmRc.Failure, Send(d, Startup).Rc);
    }

    [TestMethod]
    public void InitAgain_ResetsTheTpm()
    {
        Start();
        CtrlInit();
        using var d = Data();
        Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
        CtrlInit();
        Assert.AreEqual(TpmRc.Initialize, Send(d, GetRandom).Rc);
    }

    [TestMethod]
    public void Shutdown_PowersOffAndStopsTheHost()
    {
        Start();
        CtrlInit();
        using (var d = Data()) Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdShutdown).ReadU32());
        Assert.IsTrue(SpinWait.SpinUntil(() => _host.Stopping.IsCancellationRequested, 5000));
        Assert.IsFalse(_host.IsPoweredOn);
    }

    [TestMethod]
    public void StoreVolatile_WritesTheVolatileFile()
    {
        Start();
        CtrlInit();
        using (var d = Data()) Send(d, Startup);
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdStoreVolatile).ReadU32());
        Assert.IsTrue(File.Exists(Path.Combine(_dir, "state", "tpm2-00.volatilestate")));
    }

    [TestMethod]
    public void GetConfig_ReportsNoKeys()
    {
        Start();
        using var c = Ctrl();
        c.SendU32(SwtpmServer.CmdGetConfig);
        Assert.AreEqual(0u, c.ReadU32());
        Assert.AreEqual(0u, c.ReadU32());
    }

    [TestMethod]
    public void CancelTpmCmd_IsAcknowledged()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdCancelTpmCmd).ReadU32());
        Assert.IsTrue(_host.Engine.Platform.CancelRequested);
        using var d = Data();
        Send(d, Startup);
        Assert.IsFalse(_host.Engine.Platform.CancelRequested, "a cancel lasts for one command");
    }

    [TestMethod]
    public void Commands_UseTheLocalitySetOnTheControlChannel()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        c.SendU32(SwtpmServer.CmdSetLocality).Send(4, 0, 0, 0).ReadU32();
        using var d = Data();
        // Startup is refused at locality 4 (PC Client: only 0 or 3), which shows the locality reached the TPM.
        Assert.AreEqual(TpmRc.Locality, Send(d, Startup).Rc);
        Assert.AreEqual(4, _host.Locality);
        c.SendU32(SwtpmServer.CmdSetLocality).Send(3, 0, 0, 0).ReadU32();
        Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
    }

    [TestMethod]
    [DataRow(9u)]
    [DataRow(0u)]
    [DataRow(4097u)]
    [DataRow(0xFFFFFFFFu)]
    public void MalformedFrame_DisconnectsOnlyThatClient(uint size)
    {
        Start();
        CtrlInit();
        using var good = Data();
        using var bad = Data();
        bad.Send(0x80, 0x01).SendU32(size).Send(0, 0, 1, 0x44);
        Assert.IsTrue(bad.IsClosedByServer());
        Assert.AreEqual(TpmRc.Success, Send(good, Startup).Rc);
    }

    [TestMethod]
    public void CommandSplitAcrossWrites_IsReassembled()
    {
        Start();
        CtrlInit();
        using var d = Data();
        d.Send(Startup[..4]);
        Thread.Sleep(20);
        d.Send(Startup[4..]);
        Assert.AreEqual(TpmRc.Success, new Rsp(d.ReadTpmResponse(), false).Rc);
    }

    [TestMethod]
    public void TwoCommandsInOneWrite_AreBothAnswered()
    {
        Start();
        CtrlInit();
        using var d = Data();
        d.Send([.. Startup, .. GetRandom]);
        Assert.AreEqual(TpmRc.Success, new Rsp(d.ReadTpmResponse(), false).Rc);
        Assert.AreEqual(TpmRc.Success, new Rsp(d.ReadTpmResponse(), false).Rc);
    }

    [TestMethod]
    public void ManyClientsAtOnce_AreAllServed()
    {
        Start();
        CtrlInit();
        using (var d = Data()) Send(d, Startup);
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using var d = Data();
            for (int i = 0; i < 10; i++) Assert.AreEqual(TpmRc.Success, Send(d, GetRandom).Rc);
        }, TestContext.CancellationToken)).ToArray();
        Assert.IsTrue(Task.WaitAll(tasks, TimeSpan.FromSeconds(20)));
    }

    [TestMethod]
    public void ServerDisconnect_ClosesAfterEachResponse()
    {
        Start(o => o.ServerDisconnect = true);
        CtrlInit();
        using var d = Data();
        Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
        Assert.IsTrue(d.IsClosedByServer());
    }

    [TestMethod]
    public void ControlTerminate_StopsTheHostWhenTheControlClientLeaves()
    {
        Start(o => o.ControlTerminate = true);
        using (var c = Ctrl()) Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdGetConfig).ReadU32());
        Assert.IsTrue(SpinWait.SpinUntil(() => _host.Stopping.IsCancellationRequested, 5000));
    }

    static byte[] GetStateBlob(SocketClient c, StateBlobKind kind, out uint result)
    {
        c.SendU32(SwtpmServer.CmdGetStateBlob, 1, (uint)kind, 0);
        result = c.ReadU32();
        c.ReadU32();
        uint total = c.ReadU32();
        uint length = c.ReadU32();
        Assert.AreEqual(total, length);
        return c.Read((int)length);
    }

    [TestMethod]
    public void GetStateBlob_MissingSaveState_IsRetryWithNoData()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        Assert.AreEqual(0, GetStateBlob(c, StateBlobKind.SaveState, out uint result).Length);
        Assert.AreEqual(SwtpmServer.TpmRetry, result);
    }

    [TestMethod]
    public void StateBlobs_MoveAnInstanceToASecondEmulator()
    {
        Start();
        CtrlInit();
        using (var d = Data()) Send(d, Startup);
        byte[] permanent, volatileBlob;
        using (var c = Ctrl())
        {
            permanent = GetStateBlob(c, StateBlobKind.Permanent, out uint r1);
            volatileBlob = GetStateBlob(c, StateBlobKind.Volatile, out uint r2);
            Assert.AreEqual(0u, r1);
            Assert.AreEqual(0u, r2);
        }

        var targetDir = Path.Combine(_dir, "target");
        using var target = new TpmHost(new DirectoryStateStore(targetDir), NullLogger.Instance);
        var o = new HostOptions { Mode = HostMode.Socket, Control = new EndpointOptions("127.0.0.1", 0, null) };
        var server = new SwtpmServer(o, NullLogger.Instance);
        server.Start(target);
        try
        {
            using var c = SocketClient.Tcp(server.Control!.Port);
            Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdStop).ReadU32());
            Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdSetStateBlob, 0, 1, (uint)permanent.Length).Send(permanent).ReadU32());
            c.SendU32(SwtpmServer.CmdSetStateBlob, 0, 2, (uint)volatileBlob.Length);
            Thread.Sleep(10); // the payload may follow in a separate write
            Assert.AreEqual(0u, c.Send(volatileBlob).ReadU32());
            Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdInit, 1).ReadU32());
            Assert.IsTrue(target.Engine.IsStarted, "the volatile state carried the started TPM over");
            Assert.IsFalse(File.Exists(Path.Combine(targetDir, "tpm2-00.volatilestate")), "INIT flag 1 deletes the volatile blob after loading it");
        }
        finally
        {
            target.RequestStop("test over");
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [TestMethod]
    public void SetStateBlob_Damaged_IsRefused()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        var blob = GetStateBlob(c, StateBlobKind.Permanent, out _);
        blob[^1] ^= 1;
        Assert.AreEqual(0u, c.SendU32(SwtpmServer.CmdStop).ReadU32());
        Assert.AreEqual(SwtpmServer.TpmBadParameter, c.SendU32(SwtpmServer.CmdSetStateBlob, 0, 1, (uint)blob.Length).Send(blob).ReadU32());
    }

    [TestMethod]
    public void SetStateBlob_WhileRunning_IsBadOrdinal()
    {
        Start();
        CtrlInit();
        using var c = Ctrl();
        var blob = GetStateBlob(c, StateBlobKind.Permanent, out _);
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, c.SendU32(SwtpmServer.CmdSetStateBlob, 0, 1, (uint)blob.Length).Send(blob).ReadU32());
    }

    [TestMethod]
    public void UnixSockets_ServeDataAndControl()
    {
        Start(unix: true);
        CtrlInit();
        using var d = Data();
        Assert.AreEqual(TpmRc.Success, Send(d, Startup).Rc);
        Assert.AreEqual(TpmRc.Success, Send(d, GetRandom).Rc);
    }
}
