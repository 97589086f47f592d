using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tests.Support;
using Vtpm.Tests.Support.Processes;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

/// <summary>
/// The command connections of both socket protocols (swtpm data channel, simulator command port), each served
/// by a blocking loop on a thread of its own: a client stuck in the middle of a command holds up nobody else,
/// and a stop closes connections that are idle or mid-command at once instead of waiting for their peers.
/// </summary>
[TestClass]
public sealed partial class CommandConnectionTests
{
    static byte[] Startup => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();
    static byte[] GetRandom => Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    public TestContext TestContext { get; set; } = null!;

    sealed class Swtpm : IAsyncDisposable
    {
        public TpmHost Host { get; }
        public SwtpmServer Server { get; }
        public ListLogger Log { get; } = new();

        public Swtpm(Action<HostOptions>? configure = null)
        {
            var o = new HostOptions { Mode = HostMode.Socket, Server = new EndpointOptions("127.0.0.1", 0, null) };
            configure?.Invoke(o);
            Host = new TpmHost(new MemoryStateStore(), Log) { StartupFlag = StartupFlag.None };
            Host.Init();
            Server = new SwtpmServer(o, Log);
            Server.Start(Host);
        }

        public SocketClient Data() => SocketClient.Tcp(Server.Data!.Port);

        public async ValueTask DisposeAsync()
        {
            Host.RequestStop("test over");
            await Server.DisposeAsync();
            Host.Dispose();
        }
    }

    sealed class Mssim : IAsyncDisposable
    {
        public TpmHost Host { get; }
        public MssimServer Server { get; }
        public ListLogger Log { get; } = new();

        public Mssim()
        {
            Host = new TpmHost(new MemoryStateStore(), Log) { StartupFlag = StartupFlag.None };
            Host.Init(autoShutdown: false);
            Server = new MssimServer(new EndpointOptions("127.0.0.1", 0, null), Log);
            Server.Start(Host);
        }

        public SocketClient Command() => SocketClient.Tcp(Server.Port);

        public async ValueTask DisposeAsync()
        {
            Host.RequestStop("test over");
            await Server.DisposeAsync();
            Host.Dispose();
        }
    }

    static TpmRc Rc(byte[] response) => new(BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));

    static byte[] MssimFrame(byte[] command, byte locality = 0)
    {
        var frame = new byte[9 + command.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, MssimServer.SendCommand);
        frame[4] = locality;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)command.Length);
        command.CopyTo(frame, 9);
        return frame;
    }

    static byte[] MssimTransact(SocketClient c, byte[] command)
    {
        c.Send(MssimFrame(command));
        var response = c.Read((int)c.ReadU32());
        Assert.AreEqual(0u, c.ReadU32(), "TPM_SEND_COMMAND ends with a u32 0");
        return response;
    }

    [TestMethod]
    public async Task SwtpmDataChannel_ClientStalledMidCommand_DoesNotHoldUpAnotherClient()
    {
        await using var tpm = new Swtpm();
        using var stalled = tpm.Data();
        var startup = Startup;
        stalled.Send(startup[..8]); // header says 12 bytes; the rest never comes
        using var other = tpm.Data();
        Assert.AreEqual(TpmRc.Success, Rc(other.Send(startup).ReadTpmResponse()));
        for (int i = 0; i < 10; i++) Assert.AreEqual(TpmRc.Success, Rc(other.Send(GetRandom).ReadTpmResponse()));
    }

    [TestMethod]
    public async Task SwtpmDataChannel_StalledClientFinishingLater_IsAnsweredInTurn()
    {
        await using var tpm = new Swtpm();
        using var stalled = tpm.Data();
        using var other = tpm.Data();
        var getRandom = GetRandom;
        stalled.Send(getRandom[..7]);
        Assert.AreEqual(TpmRc.Initialize, Rc(other.Send(getRandom).ReadTpmResponse()), "no TPM2_Startup yet");
        Assert.AreEqual(TpmRc.Success, Rc(other.Send(Startup).ReadTpmResponse()));
        stalled.Send(getRandom[7..]);
        Assert.AreEqual(TpmRc.Success, Rc(stalled.ReadTpmResponse()), "the stalled command runs once complete, after the other client's Startup");
    }

    [TestMethod]
    public async Task MssimCommandPort_ClientStalledMidCommand_DoesNotHoldUpAnotherClient()
    {
        await using var tpm = new Mssim();
        using var stalled = tpm.Command();
        stalled.Send(MssimFrame(Startup)[..11]);
        using var other = tpm.Command();
        Assert.AreEqual(TpmRc.Success, Rc(MssimTransact(other, Startup)));
        for (int i = 0; i < 10; i++) Assert.AreEqual(TpmRc.Success, Rc(MssimTransact(other, GetRandom)));
    }

    [TestMethod]
    public async Task SwtpmDataChannel_Stop_ClosesAnIdleConnection()
    {
        await using var tpm = new Swtpm();
        using var idle = tpm.Data();
        Assert.AreEqual(TpmRc.Success, Rc(idle.Send(Startup).ReadTpmResponse()));
        tpm.Host.RequestStop("test");
        Assert.IsTrue(idle.IsClosedByServer(), "the stop ends the blocked receive and closes the connection");
    }

    [TestMethod]
    public async Task SwtpmDataChannel_Stop_ClosesAConnectionStalledMidCommand()
    {
        await using var tpm = new Swtpm();
        using var stalled = tpm.Data();
        stalled.Send(Startup[..8]);
        // Connections are accepted in order: once a later client is answered, the stalled one is being served.
        using (var later = tpm.Data()) Assert.AreEqual(TpmRc.Success, Rc(later.Send(Startup).ReadTpmResponse()));
        tpm.Host.RequestStop("test");
        Assert.IsTrue(stalled.IsClosedByServer());
    }

    [TestMethod]
    public async Task MssimCommandPort_Stop_ClosesAnIdleConnection()
    {
        await using var tpm = new Mssim();
        using var idle = tpm.Command();
        Assert.AreEqual(TpmRc.Success, Rc(MssimTransact(idle, Startup)));
        tpm.Host.RequestStop("test");
        Assert.IsTrue(idle.IsClosedByServer());
    }

    [TestMethod]
    public async Task Stop_WithConnectedClients_DisposesWithoutWaitingForThem()
    {
        var tpm = new Swtpm();
        using var stalled = tpm.Data();
        using var idle = tpm.Data(); // accepted after the stalled one: its answer means both are being served
        stalled.Send(GetRandom[..3]);
        Assert.AreEqual(TpmRc.Success, Rc(idle.Send(Startup).ReadTpmResponse()));
        await tpm.DisposeAsync();
        Assert.IsFalse(tpm.Log.Lines.Any(l => l.Contains("still running", StringComparison.Ordinal)), string.Join('\n', tpm.Log.Lines));
    }

    [TestMethod]
    public async Task SwtpmDataChannel_CommandLargerThanTheBufferSize_DisconnectsWithALogLine()
    {
        await using var tpm = new Swtpm();
        using var c = tpm.Data();
        c.Send(0x80, 0x01).SendU32(TpmHost.MaxBufferSize + 1).Send(0, 0, 1, 0x44);
        Assert.IsTrue(c.IsClosedByServer());
        StringAssert.Contains(string.Join('\n', tpm.Log.Lines), $"command size {TpmHost.MaxBufferSize + 1} outside 10..{TpmHost.MaxBufferSize}");
    }

    [TestMethod]
    public async Task SwtpmDataChannel_ResponseLargerThanACommand_ComesInOneFrame()
    {
        // GetCapability answers are larger than the command: the response buffer is not the command buffer.
        await using var tpm = new Swtpm();
        using var c = tpm.Data();
        Assert.AreEqual(TpmRc.Success, Rc(c.Send(Startup).ReadTpmResponse()));
        var getCap = Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.Algs).U32(0).U32(64).Build();
        var rsp = c.Send(getCap).ReadTpmResponse();
        Assert.AreEqual(TpmRc.Success, Rc(rsp));
        Assert.IsGreaterThan(getCap.Length, rsp.Length);
    }

    [TestMethod]
    [DataRow("vtpm-swtpm")]
    [DataRow("vtpm-mssim")]
    public void VtpmProcess_Sigterm_WithAnIdleClientConnected_ExitsPromptly(string target)
    {
        using var server = TpmServer.Start(target, startupClear: true);
        server.PowerOnIfSimulator();
        using var client = server.Connect();
        client.Transact(Startup);
        Assert.AreEqual(0, SendSignal(server.Process.Id, 15));
        // Without closing the idle connection, the listener would wait 5 s for it ("still running").
        Assert.AreEqual(0, server.WaitForExit(TimeSpan.FromSeconds(4)), server.Output);
        Assert.DoesNotContain("still running", server.Output);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
