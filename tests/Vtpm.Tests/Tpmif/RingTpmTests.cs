using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Tpmif;
using Vtpm.Emulator.Transports;
using Vtpm.Frontend;
using Vtpm.Tests.Qemu;
using Vtpm.Tests.Support;
using static Vtpm.Tests.Support.ControlWire;
using Vtpm.Tpm2.State;
using Vtpm.Tpmfront;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// tpmfront's device in one process: a TpmHost served by tpmback, a TpmifFrontend, and the RingTpm that
/// vtpm's own SwtpmServer drives as tpmfront's control channel. The ring's platform signals (state blobs in
/// chunks, store-volatile, config, fixed properties) against the same host reached directly, and a frontend
/// sending malformed platform commands.
/// </summary>
[TestClass]
public sealed class RingTpmTests
{
    string _dir = "";
    TpmHost _host = null!;
    TpmbackService _back = null!;
    TpmifFrontend _front = null!;
    RingTpm _ring = null!;
    readonly List<IAsyncDisposable> _servers = [];
    readonly List<IDisposable> _owned = [];

    void Start(int extraPages = 1)
    {
        _dir = Directory.CreateTempSubdirectory("ringtpm-").FullName;
        string name = "r" + Guid.NewGuid().ToString("N")[..12];
        _host = new TpmHost(new DirectoryStateStore(Path.Combine(_dir, "state")), NullLogger.Instance);
        _back = new TpmbackService(_host, Path.Combine(_dir, "rendezvous"), name, null, null, NullLogger.Instance);
        _back.Start();
        _front = new TpmifFrontend(new RendezvousStore(Path.Combine(_dir, "rendezvous"), name), extraPages: extraPages);
        _front.Start();
        Assert.IsTrue(_front.WaitConnected(TimeSpan.FromSeconds(10)), "ring connected");
        _ring = new RingTpm(_front, NullLogger.Instance);
    }

    [TestCleanup]
    public async Task Stop()
    {
        foreach (var d in _owned) d.Dispose();
        _ring?.RequestStop("test over");
        _host?.RequestStop("test over");
        foreach (var s in _servers) await s.DisposeAsync();
        _front?.Dispose();
        _back?.Dispose();
        _host?.Dispose();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A swtpm control channel on a Unix socket over <paramref name="device"/>; returns a connected client.</summary>
    Socket ControlChannel(ITpmDevice device, string name)
    {
        string path = Path.Combine(_dir, name);
        var server = new SwtpmServer(new HostOptions { Mode = HostMode.Socket, Control = new EndpointOptions(null, 0, path) }, NullLogger.Instance);
        _servers.Add(server);
        server.Start(device);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        _owned.Add(s);
        return s;
    }

    /// <summary>GET_STATEBLOB (ptm_getstate) → result, flags, totlength, length, data; or the result alone on error.</summary>
    static byte[] GetStateBlob(Socket ctrl, StateBlobKind kind)
    {
        ctrl.Send(Words(SwtpmServer.CmdGetStateBlob, 0, (uint)kind, 0));
        var head = Read(ctrl, 4);
        if (U32(head) != SwtpmServer.TpmSuccess) return head;
        var rest = Read(ctrl, 12);
        return [.. head, .. rest, .. Read(ctrl, (int)U32(rest, 8))];
    }

    /// <summary>GET_INFO (ptm_getinfo: u64 flags, u32 offset, u32 pad) → result, totlength, length, text.</summary>
    static byte[] GetInfo(Socket ctrl, ulong flags)
    {
        var req = new byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(req, SwtpmServer.CmdGetInfo);
        BinaryPrimitives.WriteUInt64BigEndian(req.AsSpan(4), flags);
        ctrl.Send(req);
        var head = Read(ctrl, 12);
        return [.. head, .. Read(ctrl, (int)U32(head, 8))];
    }

    static uint Rc(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    static readonly byte[] StartupClear = Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();
    static readonly byte[] GetRandom8 = Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    [TestMethod]
    public void StateBlobLargerThanTheRing_RoundTripsInChunks()
    {
        Start(extraPages: 0);
        var payload = RandomNumberGenerator.GetBytes(5 * _front.Capacity + 123);
        Assert.IsFalse(_ring.IsPoweredOn);

        _ring.SetStateBlob(StateBlobKind.SaveState, payload);

        CollectionAssert.AreEqual(payload, _host.Store.Load(StateBlobKind.SaveState), "what the backend stored");
        CollectionAssert.AreEqual(payload, _ring.GetStateBlob(StateBlobKind.SaveState), "what the ring reads back");
    }

    [TestMethod]
    public void VolatileBlobOfARunningTpm_ThroughTheRing_IsItsRamNow()
    {
        Start(extraPages: 0);
        _host.Init();
        Assert.AreEqual(TpmRc.Success.Code, Rc(_host.Execute(StartupClear, 0)));
        var blob = _ring.GetStateBlob(StateBlobKind.Volatile);
        Assert.IsNotNull(blob);
        CollectionAssert.AreEqual(_host.Engine.SerializeVolatile(), blob);
        Assert.IsNull(_ring.GetStateBlob(StateBlobKind.SaveState), "no save-state image yet");
    }

    [TestMethod]
    public void SetStateBlob_WhileTheTpmRuns_IsRefusedAndNothingIsStored()
    {
        Start();
        _host.Init();
        Assert.ThrowsExactly<TpmDeviceException>(() => _ring.SetStateBlob(StateBlobKind.SaveState, new byte[100]));
        Assert.IsNull(_host.Store.Load(StateBlobKind.SaveState));
    }

    [TestMethod]
    public void StoreVolatileConfigAndFixedProperties_ComeFromTheBackend()
    {
        Start();
        _host.Init();
        _ring.StoreVolatile();
        CollectionAssert.AreEqual(_host.Engine.SerializeVolatile(), _host.Store.Load(StateBlobKind.Volatile));
        Assert.IsFalse(_ring.HasFileKey);
        Assert.AreEqual(_host.FixedProperty(TpmPt.Manufacturer), _ring.FixedProperty(TpmPt.Manufacturer));
        Assert.AreEqual(_host.FixedProperty(TpmPt.Revision), _ring.FixedProperty(TpmPt.Revision));
        Assert.IsNull(_ring.FixedProperty((TpmPt)0xFFFF_FFFF));
    }

    [TestMethod]
    public void TpmfrontControlChannel_AnswersAsVtpmsOwn()
    {
        Start(extraPages: 0);
        var vtpm = ControlChannel(_host, "vtpm-ctrl.sock");
        var front = ControlChannel(_ring, "front-ctrl.sock");
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdInit, 0));
        // The same bytes on both channels: capabilities, config, GET_INFO's JSON, the TPM-established flag.
        foreach (var request in new[] { Words(SwtpmServer.CmdGetCapability), Words(SwtpmServer.CmdGetConfig), Words(SwtpmServer.CmdGetTpmEstablished) })
        {
            vtpm.Send(request);
            front.Send(request);
            CollectionAssert.AreEqual(Read(vtpm, 8), Read(front, 8), $"request 0x{U32(request):x}");
        }
        var info = GetInfo(front, SwtpmServer.InfoTpmSpecification | SwtpmServer.InfoTpmAttributes);
        CollectionAssert.AreEqual(GetInfo(vtpm, SwtpmServer.InfoTpmSpecification | SwtpmServer.InfoTpmAttributes), info);
        StringAssert.Contains(System.Text.Encoding.UTF8.GetString(info, 12, info.Length - 12), "\"TPMSpecification\"");
        // The sealed permanent blob is byte for byte vtpm's, whatever the ring's capacity.
        var permanent = GetStateBlob(front, StateBlobKind.Permanent);
        Assert.AreEqual(SwtpmServer.TpmSuccess, U32(permanent));
        CollectionAssert.AreEqual(GetStateBlob(vtpm, StateBlobKind.Permanent), permanent);
        var payload = StateEnvelope.Open(StateBlobKind.Permanent, permanent.AsSpan(16).ToArray(), null, "GET_STATEBLOB");
        CollectionAssert.AreEqual(_host.Store.Load(StateBlobKind.Permanent), payload);
        // No save-state image: swtpm's TPM_RETRY with an empty body, on both.
        CollectionAssert.AreEqual(GetStateBlob(vtpm, StateBlobKind.SaveState), GetStateBlob(front, StateBlobKind.SaveState));
    }

    /// <summary>QEMU's way: a socketpair, one end handed over with CMD_SET_DATAFD; returns ours.</summary>
    Socket AttachDataChannel(Socket control)
    {
        var (data, theirs) = FdPassing.CreatePair();
        _owned.Add(data);
        FdPassing.Send(control, Words(SwtpmServer.CmdSetDataFd), theirs);
        FdPassing.CloseFd(theirs);
        Assert.AreEqual(SwtpmServer.TpmSuccess, U32(Read(control, 4)));
        data.ReceiveTimeout = 5000;
        return data;
    }

    [TestMethod]
    public void TpmfrontControlChannel_SetDataFd_CarriesCommandsThroughTheRing()
    {
        Start();
        var front = ControlChannel(_ring, "front-ctrl.sock");
        var data = AttachDataChannel(front);
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdInit, 0));
        Assert.IsTrue(_host.IsPoweredOn, "CMD_INIT reached the backend's TPM");
        Assert.AreEqual(0u, Rc(Transact(data, StartupClear)));
        var rsp = Transact(data, GetRandom8);
        Assert.AreEqual(0u, Rc(rsp));
        Assert.HasCount(20, rsp);
    }

    [TestMethod]
    public void TpmfrontControlChannel_VolatileBlobSetWhileStopped_IsRestoredByInit()
    {
        Start(extraPages: 0);
        var front = ControlChannel(_ring, "front-ctrl.sock");
        var data = AttachDataChannel(front);
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(0u, Rc(Transact(data, StartupClear)));
        // QEMU's migration: the running TPM's blob out, STOP, the blob in, then INIT restores it.
        var volatileBlob = GetStateBlob(front, StateBlobKind.Volatile);
        Assert.AreEqual(SwtpmServer.TpmSuccess, U32(volatileBlob));
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdStop));
        Assert.IsFalse(_host.IsPoweredOn);
        Assert.IsNull(_host.Store.Load(StateBlobKind.Volatile), "nothing to restore but what SET_STATEBLOB brings");
        var body = volatileBlob.AsSpan(16).ToArray();
        front.Send([.. Words(SwtpmServer.CmdSetStateBlob, 0, (uint)StateBlobKind.Volatile, (uint)body.Length), .. body]);
        Assert.AreEqual(SwtpmServer.TpmSuccess, U32(Read(front, 4)));
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdInit, 0));
        // Still started (the restored RAM state): no Startup needed.
        Assert.AreEqual(0u, Rc(Transact(data, GetRandom8)));
    }

    [TestMethod]
    public void RingDown_ControlRequestsAnswerTpmFail_AndCommandsTpmRcFailure_WithoutHanging()
    {
        Start();
        var front = ControlChannel(_ring, "front-ctrl.sock");
        var data = AttachDataChannel(front);
        Assert.AreEqual(0u, Call(front, SwtpmServer.CmdInit, 0));

        _back.Dispose(); // the backend goes away
        var sw = Stopwatch.StartNew();
        while (_front.IsConnected && sw.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
        Assert.IsFalse(_front.IsConnected);

        Assert.AreEqual(SwtpmServer.TpmFail, Call(front, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(SwtpmServer.TpmFail, Call(front, SwtpmServer.CmdGetTpmEstablished));
        Assert.AreEqual(SwtpmServer.TpmFail, Call(front, SwtpmServer.CmdStoreVolatile));
        Assert.AreEqual(SwtpmServer.TpmFail, U32(GetStateBlob(front, StateBlobKind.Permanent)));
        Assert.AreEqual(SwtpmServer.TpmFail, Call(front, SwtpmServer.CmdGetConfig));
        Assert.AreEqual(TpmRc.Failure.Code, Rc(Transact(data, GetRandom8)));
        // The channel is still in step: a local request answers normally.
        Assert.AreEqual(SwtpmServer.TpmSuccess, Call(front, SwtpmServer.CmdSetLocality, 0));
    }

    /// <summary>
    /// A frontend's platform commands are checked field by field; each bad one gets an error response and the
    /// backend keeps serving. Rows: signal, argument, data (hex), expected response code.
    /// </summary>
    [TestMethod]
    [DataRow(12u, 0u, "00000000", 0x95u, DisplayName = "Status with data: TPM_RC_SIZE")]
    [DataRow(5u, 2u, "", 0x84u, DisplayName = "PhysicalPresence 2: TPM_RC_VALUE")]
    [DataRow(3u, 8u, "", 0x84u, DisplayName = "Init with unknown flag bits: TPM_RC_VALUE")]
    [DataRow(14u, 0u, "0000000000001000", 0x84u, DisplayName = "GetStateBlob kind 0: TPM_RC_VALUE")]
    [DataRow(14u, 4u, "0000000000001000", 0x84u, DisplayName = "GetStateBlob kind 4: TPM_RC_VALUE")]
    [DataRow(14u, 1u, "00000000", 0x95u, DisplayName = "GetStateBlob short request: TPM_RC_SIZE")]
    [DataRow(14u, 1u, "0000000000000000", 0x84u, DisplayName = "GetStateBlob chunk of 0 bytes: TPM_RC_VALUE")]
    [DataRow(14u, 1u, "0000006400001000", 0x84u, DisplayName = "GetStateBlob later chunk without a snapshot: TPM_RC_VALUE")]
    [DataRow(15u, 3u, "00200000" + "00000000" + "00", 0x95u, DisplayName = "SetStateBlob of 2 MiB: TPM_RC_SIZE")]
    [DataRow(15u, 3u, "00000000" + "00000000", 0x95u, DisplayName = "SetStateBlob of 0 bytes: TPM_RC_SIZE")]
    [DataRow(15u, 3u, "00000002" + "00000000" + "010203", 0x95u, DisplayName = "SetStateBlob chunk past its total: TPM_RC_SIZE")]
    [DataRow(15u, 3u, "00000010" + "00000004" + "01", 0x103u, DisplayName = "SetStateBlob chunk before the first: TPM_RC_SEQUENCE")]
    [DataRow(15u, 3u, "000000", 0x95u, DisplayName = "SetStateBlob short request: TPM_RC_SIZE")]
    [DataRow(15u, 9u, "00000001" + "00000000" + "01", 0x84u, DisplayName = "SetStateBlob kind 9: TPM_RC_VALUE")]
    [DataRow(17u, 0xFFFFFFFFu, "", 0x84u, DisplayName = "FixedProperty unknown: TPM_RC_VALUE")]
    [DataRow(18u, 7u, "", 0x84u, DisplayName = "CancelLevel 7: TPM_RC_VALUE")]
    [DataRow(0xDEADu, 0u, "", 0x143u, DisplayName = "Unknown signal: TPM_RC_COMMAND_CODE")]
    public void MalformedPlatformCommand_GetsAnErrorResponse_AndTheBackendKeepsServing(uint signal, uint argument, string dataHex, uint expected)
    {
        Start();
        var rsp = _front.Transact(RingPlatform.Build((PlatformSignal)signal, argument, Convert.FromHexString(dataHex)));
        Assert.AreEqual(expected, Rc(rsp));
        Assert.IsNull(_host.Store.Load(StateBlobKind.SaveState), "nothing stored");
        Assert.IsFalse(_ring.IsPoweredOn, "the backend still answers");
        _ring.Init();
        Assert.AreEqual(0u, Rc(((ITpmDevice)_ring).Execute(StartupClear, 0)));
    }

    [TestMethod]
    public void PlatformCommandWhoseSizeFieldLies_IsTpmRcCommandSize()
    {
        Start();
        var cmd = RingPlatform.Build(PlatformSignal.Status);
        BinaryPrimitives.WriteUInt32BigEndian(cmd.AsSpan(2), 4096);
        Assert.AreEqual(TpmRc.CommandSize.Code, Rc(_front.Transact(cmd)));
        Assert.IsFalse(_ring.IsPoweredOn);
    }

    [TestMethod]
    public void SetStateBlobChunksOutOfOrder_AbandonTheBlob_AndNothingIsStored()
    {
        Start();
        static byte[] Chunk(uint total, uint offset, int n) => [.. Words(total, offset), .. new byte[n]];
        Assert.AreEqual(0u, Rc(_front.Transact(RingPlatform.Build(PlatformSignal.SetStateBlob, 3, Chunk(100, 0, 10)))));
        Assert.AreEqual(TpmRc.Sequence.Code, Rc(_front.Transact(RingPlatform.Build(PlatformSignal.SetStateBlob, 3, Chunk(100, 50, 10)))));
        // The rest of the original blob no longer completes it: it was abandoned.
        Assert.AreEqual(TpmRc.Sequence.Code, Rc(_front.Transact(RingPlatform.Build(PlatformSignal.SetStateBlob, 3, Chunk(100, 10, 90)))));
        Assert.IsNull(_host.Store.Load(StateBlobKind.SaveState));
    }

    [TestMethod]
    public void ClientsCannotSendThePlatformCommandCode()
    {
        Start();
        var rsp = ((ITpmDevice)_ring).Execute(RingPlatform.Build(PlatformSignal.Init), 0);
        Assert.AreEqual(TpmRc.CommandCode.Code, Rc(rsp));
        Assert.IsFalse(_host.IsPoweredOn, "the ring never carried it");
    }
}
