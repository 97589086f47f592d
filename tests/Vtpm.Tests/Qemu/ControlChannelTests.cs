using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tests.Support;
using static Vtpm.Tests.Support.ControlWire;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// The swtpm control channel as QEMU drives it (../shared/design/QEMU.md), in process: the data channel
/// passed with SCM_RIGHTS, QEMU's exact start-up sequence, and bad input answered as swtpm 0.7.1 answers it.
/// </summary>
[TestClass]
public sealed class ControlChannelTests
{
    TpmHost _host = null!;
    SwtpmServer _server = null!;
    string _dir = "";
    readonly List<IDisposable> _owned = [];

    string ControlPath => Path.Combine(_dir, "ctrl.sock");

    [TestInitialize]
    public void Start()
    {
        _dir = Directory.CreateTempSubdirectory("vtpm-ctrl-").FullName;
        // As `vtpm socket --tpm2 --ctrl type=unixio,path=…`: no data listener at all.
        var o = new HostOptions { Mode = HostMode.Socket, Control = new EndpointOptions(null, 0, ControlPath) };
        _host = new TpmHost(new DirectoryStateStore(Path.Combine(_dir, "state")), NullLogger.Instance);
        _server = new SwtpmServer(o, NullLogger.Instance);
        _server.Start(_host);
    }

    [TestCleanup]
    public async Task Stop()
    {
        foreach (var d in _owned) d.Dispose();
        _host.RequestStop("test over");
        await _server.DisposeAsync();
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    Socket Ctrl()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        s.Connect(new UnixDomainSocketEndPoint(ControlPath));
        _owned.Add(s);
        return s;
    }

    /// <summary>SET_DATAFD as QEMU sends it; returns our end of the data channel and the result.</summary>
    (Socket Data, uint Result) SetDataFd(Socket ctrl)
    {
        var (ours, theirs) = FdPassing.CreatePair();
        _owned.Add(ours);
        FdPassing.Send(ctrl, Words(SwtpmServer.CmdSetDataFd), theirs);
        FdPassing.CloseFd(theirs); // the server holds its own copy now
        return (ours, ReadU32(ctrl));
    }

    static bool ClosedByPeer(Socket s)
    {
        try
        {
            return s.Receive(new byte[1]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    static readonly byte[] ReadClockProbe = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81];
    static readonly byte[] FailureAnswer = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01];
    static byte[] StartupClear => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();
    static byte[] GetRandom8 => Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    [TestMethod]
    public void SetDataFd_PassedSocketCarriesTpmCommands()
    {
        var ctrl = Ctrl();
        var (data, rc) = SetDataFd(ctrl);
        Assert.AreEqual(SwtpmServer.TpmSuccess, rc);
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
        var r = new Rsp(Transact(data, GetRandom8), false);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(2 + 8, r.Parameters.Length);
    }

    [TestMethod]
    public void VersionProbe_BeforeInit_IsAnsweredInOneRead_AsSwtpmInTpm2Mode()
    {
        var ctrl = Ctrl();
        var (data, _) = SetDataFd(ctrl);
        data.Send(ReadClockProbe);
        // QEMU takes whatever one read() returns as the whole answer and checks its size field.
        Assert.IsTrue(data.Poll(1_000_000, SelectMode.SelectRead), "answer within QEMU's 1 s");
        Thread.Sleep(50);
        var buffer = new byte[64];
        int n = data.Receive(buffer);
        CollectionAssert.AreEqual(FailureAnswer, buffer[..n]);
    }

    [TestMethod]
    public void SetDataFd_WithoutADescriptor_IsBadParameter()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadParameter, Call(ctrl, SwtpmServer.CmdSetDataFd));
        // The channel stays usable.
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdGetConfig));
    }

    [TestMethod]
    public void SetDataFd_SecondWhileTheFirstIsOpen_IsIoError_AndTheFirstStaysInUse()
    {
        var ctrl = Ctrl();
        var (first, rc1) = SetDataFd(ctrl);
        Assert.AreEqual(0u, rc1);
        var (second, rc2) = SetDataFd(ctrl);
        Assert.AreEqual(SwtpmServer.TpmIoError, rc2, "swtpm 0.7.1 refuses a second data fd with TPM_IOERROR");
        Assert.IsTrue(ClosedByPeer(second), "the refused descriptor is closed");
        CollectionAssert.AreEqual(FailureAnswer, Transact(first, ReadClockProbe), "the first channel still answers");

        // Once the first peer is gone, a new descriptor is accepted.
        first.Close();
        Assert.IsTrue(SpinWait.SpinUntil(() =>
        {
            var (third, rc3) = SetDataFd(ctrl);
            if (rc3 != 0) return false;
            CollectionAssert.AreEqual(FailureAnswer, Transact(third, ReadClockProbe));
            return true;
        }, 5000));
    }

    [TestMethod]
    public void QemuStartSequence_Tpm2_IsAnsweredWithTheExpectedSizes()
    {
        // QEMU.md "Boot, TPM2": 0x10, probe, 0x01, 0x0E, 0x11(0), 0x0E, 0x11(4096), 0x02(0), 0x04, 0x05(0).
        var ctrl = Ctrl();
        var (data, rc) = SetDataFd(ctrl);
        Assert.AreEqual(0u, rc);
        CollectionAssert.AreEqual(FailureAnswer, Transact(data, ReadClockProbe));

        ctrl.Send(Words(SwtpmServer.CmdGetCapability));
        ulong caps = BinaryPrimitives.ReadUInt64BigEndian(Read(ctrl, 8));
        Assert.AreEqual(0x348Ful, caps & 0x348F, "QEMU's mandatory TPM2 set");
        Assert.AreEqual(0x0700ul, caps & 0x0700, "STOP + GET/SET_STATEBLOB: migration allowed");
        Assert.AreEqual(1ul << 12 | 1ul << 14 | 1ul << 16, caps & (1ul << 12 | 1ul << 14 | 1ul << 16), "SET_DATAFD, GET_INFO, LOCK_STORAGE");

        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        ctrl.Send(Words(SwtpmServer.CmdSetBufferSize, 0));
        CollectionAssert.AreEqual(Words(0, 4096, 2808, 4096), Read(ctrl, 16));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        ctrl.Send(Words(SwtpmServer.CmdSetBufferSize, 4096));
        CollectionAssert.AreEqual(Words(0, 4096, 2808, 4096), Read(ctrl, 16));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        ctrl.Send(Words(SwtpmServer.CmdGetTpmEstablished));
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, Read(ctrl, 8));
        ctrl.Send([0, 0, 0, (byte)SwtpmServer.CmdSetLocality, 0, 0, 0, 0]);
        Assert.AreEqual(0u, ReadU32(ctrl));
        // After INIT, before Startup: TPM_RC_INITIALIZE.
        Assert.AreEqual(TpmRc.Initialize, new Rsp(Transact(data, GetRandom8), false).Rc);
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
    }

    [TestMethod]
    public void SetBufferSize_CrbSize_IsKept()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        ctrl.Send(Words(SwtpmServer.CmdSetBufferSize, 3968));
        CollectionAssert.AreEqual(Words(0, 3968, 2808, 4096), Read(ctrl, 16));
    }

    [TestMethod]
    [DataRow(1ul, "{\"TPMSpecification\":{\"family\":\"2.0\",\"level\":0,\"revision\":159}}")]
    [DataRow(2ul, "{\"TPMAttributes\":{\"manufacturer\":\"id:5654504D\",\"version\":\"id:00010000\",\"model\":\"vtpm\"}}")]
    [DataRow(0ul, "{}")]
    public void GetInfo_ReturnsSwtpmsJson(ulong flags, string json)
    {
        var ctrl = Ctrl();
        var req = new byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(req, SwtpmServer.CmdGetInfo);
        BinaryPrimitives.WriteUInt64BigEndian(req.AsSpan(4), flags);
        ctrl.Send(req);
        Assert.AreEqual(0u, ReadU32(ctrl));
        uint total = ReadU32(ctrl), length = ReadU32(ctrl);
        Assert.AreEqual(total, length);
        var text = Read(ctrl, (int)length);
        Assert.AreEqual(json + "\0", Encoding.UTF8.GetString(text));
    }

    [TestMethod]
    public void GetInfo_FromAnOffset_ReturnsTheRest()
    {
        var ctrl = Ctrl();
        var req = new byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(req, SwtpmServer.CmdGetInfo);
        BinaryPrimitives.WriteUInt64BigEndian(req.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(req.AsSpan(12), 5);
        ctrl.Send(req);
        Assert.AreEqual(0u, ReadU32(ctrl));
        uint total = ReadU32(ctrl), length = ReadU32(ctrl);
        Assert.AreEqual(total - 5, length);
        StringAssert.StartsWith(Encoding.UTF8.GetString(Read(ctrl, (int)length)), "Specification\"");
    }

    [TestMethod]
    public void LockStorage_IsAcknowledged_TheDirectoryIsAlreadyLocked()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdLockStorage, 300));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdGetConfig));
    }

    [TestMethod]
    [DataRow(0x14u)]
    [DataRow(0xFFFFFFFFu)]
    public void UnknownCode_IsBadOrdinal(uint code)
    {
        var ctrl = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, Call(ctrl, code));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdGetConfig));
    }

    [TestMethod]
    [DataRow(SwtpmServer.CmdInit, 2)]
    [DataRow(SwtpmServer.CmdSetLocality, 0)]
    [DataRow(SwtpmServer.CmdResetTpmEstablished, 0)]
    [DataRow(SwtpmServer.CmdGetStateBlob, 4)]
    [DataRow(SwtpmServer.CmdSetStateBlob, 8)]
    public void ShortBody_DisconnectsTheClient_AsSwtpm(uint code, int bodyBytes)
    {
        var ctrl = Ctrl();
        ctrl.Send([.. Words(code), .. new byte[bodyBytes]]);
        Assert.IsTrue(ClosedByPeer(ctrl), "no answer, connection closed");
        // The emulator lives on and serves the next client.
        Assert.AreEqual(0u, Call(Ctrl(), SwtpmServer.CmdGetConfig));
    }

    [TestMethod]
    [DataRow(SwtpmServer.CmdSetBufferSize, 1)]
    [DataRow(SwtpmServer.CmdGetInfo, 2)]
    public void ShortBody_IsBadParameter_AsSwtpm(uint code, int bodyBytes)
    {
        var ctrl = Ctrl();
        ctrl.Send([.. Words(code), .. new byte[bodyBytes]]);
        Assert.AreEqual(SwtpmServer.TpmBadParameter, ReadU32(ctrl));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdGetConfig));
    }

    [TestMethod]
    public void Stop_WhileACommandRuns_WaitsForIt_ThenTheTpmIsStopped()
    {
        var ctrl = Ctrl();
        var (data, _) = SetDataFd(ctrl);
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);

        // Hold the instance so the command is in flight when STOP arrives.
        Task<byte[]> command;
        Task<uint> stop;
        Monitor.Enter(_host.Gate);
        try
        {
            command = Task.Run(() => Transact(data, GetRandom8));
            Thread.Sleep(100);
            stop = Task.Run(() => Call(ctrl, SwtpmServer.CmdStop));
            Thread.Sleep(100);
            Assert.IsFalse(command.IsCompleted);
            Assert.IsFalse(stop.IsCompleted, "STOP waits for the command in flight");
        }
        finally
        {
            Monitor.Exit(_host.Gate);
        }
        Assert.AreEqual(0u, stop.Result);
        // The command got a complete, well-formed answer: success, or the stopped TPM's failure if STOP won.
        var rsp = new Rsp(command.Result, false);
        Assert.IsTrue(rsp.Rc == TpmRc.Success || rsp.Rc == TpmRc.Failure, rsp.ToString());
        Assert.AreEqual((uint)command.Result.Length, rsp.Size);
        CollectionAssert.AreEqual(FailureAnswer, Transact(data, GetRandom8), "stopped");
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
    }

    [TestMethod]
    public void GetStateBlob_BeforeInit_IsBadOrdinal()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(SwtpmServer.TpmBadOrdinal, Call(ctrl, SwtpmServer.CmdGetStateBlob, 1, 1, 0));
    }

    byte[] GetBlob(Socket ctrl, StateBlobKind kind)
    {
        ctrl.Send(Words(SwtpmServer.CmdGetStateBlob, 1, (uint)kind, 0));
        Assert.AreEqual(0u, ReadU32(ctrl));
        ReadU32(ctrl);
        uint total = ReadU32(ctrl), length = ReadU32(ctrl);
        Assert.AreEqual(total, length);
        return Read(ctrl, (int)length);
    }

    [TestMethod]
    [DataRow(StateBlobKind.Permanent, "truncated")]
    [DataRow(StateBlobKind.Permanent, "tampered")]
    [DataRow(StateBlobKind.Volatile, "truncated")]
    [DataRow(StateBlobKind.Volatile, "tampered")]
    [DataRow(StateBlobKind.Permanent, "empty")]
    public void SetStateBlob_Damaged_IsBadParameter_AndNothingIsLoaded(StateBlobKind kind, string damage)
    {
        var ctrl = Ctrl();
        var (data, _) = SetDataFd(ctrl);
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
        var blob = GetBlob(ctrl, kind);
        blob = damage switch
        {
            "truncated" => blob[..(blob.Length / 2)],
            "tampered" => [.. blob[..(blob.Length / 2)], (byte)(blob[blob.Length / 2] ^ 0x40), .. blob[(blob.Length / 2 + 1)..]],
            _ => [1, 2, 3],
        };
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        string file = ((DirectoryStateStore)_host.Store).PathOf(StateBlobKind.Permanent);
        var before = File.ReadAllBytes(file);
        ctrl.Send([.. Words(SwtpmServer.CmdSetStateBlob, 0, (uint)kind, (uint)blob.Length)]);
        ctrl.Send(blob); // the payload in a separate write, as QEMU sends it
        Assert.AreEqual(SwtpmServer.TpmBadParameter, ReadU32(ctrl));

        CollectionAssert.AreEqual(before, File.ReadAllBytes(file), "the permanent state is untouched");
        Assert.IsFalse(File.Exists(((DirectoryStateStore)_host.Store).PathOf(StateBlobKind.Volatile)), "no volatile state was stored");
        // The emulator still starts on its own state.
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
    }

    [TestMethod]
    public void SetStateBlob_UnknownType_IsBadParameter()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        Assert.AreEqual(SwtpmServer.TpmBadParameter, Call(ctrl, SwtpmServer.CmdSetStateBlob, 0, 5, 0));
    }

    [TestMethod]
    public void ResetTpmEstablished_NeedsLocality3Or4()
    {
        var ctrl = Ctrl();
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        ctrl.Send([0, 0, 0, (byte)SwtpmServer.CmdResetTpmEstablished, 0, 0, 0, 0]);
        Assert.AreEqual(SwtpmServer.TpmBadLocality, ReadU32(ctrl));
        ctrl.Send([0, 0, 0, (byte)SwtpmServer.CmdResetTpmEstablished, 3, 0, 0, 0]);
        Assert.AreEqual(0u, ReadU32(ctrl));
        ctrl.Send([0, 0, 0, (byte)SwtpmServer.CmdResetTpmEstablished, 4, 0, 0, 0]);
        Assert.AreEqual(0u, ReadU32(ctrl));
        ctrl.Send([0, 0, 0, (byte)SwtpmServer.CmdSetLocality, 5, 0, 0, 0]);
        Assert.AreEqual(SwtpmServer.TpmBadLocality, ReadU32(ctrl));
    }

    [TestMethod]
    public void InitWithDeleteVolatile_LoadsThenRemovesTheVolatileState()
    {
        var ctrl = Ctrl();
        var (data, _) = SetDataFd(ctrl);
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 0));
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, StartupClear), false).Rc);
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStoreVolatile));
        string vol = ((DirectoryStateStore)_host.Store).PathOf(StateBlobKind.Volatile);
        Assert.IsTrue(File.Exists(vol));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdStop));
        Assert.AreEqual(0u, Call(ctrl, SwtpmServer.CmdInit, 1));
        Assert.IsFalse(File.Exists(vol), "DELETE_VOLATILE removed the file");
        // The restored RAM state is a started TPM: no new Startup is needed.
        Assert.AreEqual(TpmRc.Success, new Rsp(Transact(data, GetRandom8), false).Rc);
    }
}
