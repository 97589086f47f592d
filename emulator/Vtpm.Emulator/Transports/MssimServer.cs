using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Tpm2.State;
using Vtpm.Wire;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// The Microsoft TPM 2.0 simulator TCP protocol (microsoft/ms-tpm-20-ref TpmTcpProtocol.h): the command
/// port P (TPM_SEND_COMMAND with locality, REMOTE_HANDSHAKE, hash signals) and the platform port P+1
/// (power, physical presence, cancel, NV, reset). All integers big-endian; most requests are
/// acknowledged with a u32 0. Unlike the reference, several clients may connect at once.
/// </summary>
public sealed class MssimServer : IAsyncDisposable
{
    // Command port (TpmTcpProtocol.h).
    public const uint SignalHashStart = 5, SignalHashData = 6, SignalHashEnd = 7, SendCommand = 8,
        RemoteHandshake = 15, SetAlternativeResult = 16, SessionEnd = 20, Stop = 21;

    // Platform port.
    public const uint SignalPowerOn = 1, SignalPowerOff = 2, SignalPhysPresOn = 3, SignalPhysPresOff = 4,
        SignalCancelOn = 9, SignalCancelOff = 10, SignalNvOn = 11, SignalNvOff = 12, SignalKeyCacheOn = 13,
        SignalKeyCacheOff = 14, SignalReset = 17, SignalRestart = 18, GetCommandResponseSizes = 25;

    /// <summary>The simulator's server version and endpoint flags (tpmPlatformAvailable | tpmInRawMode | tpmSupportsPP).</summary>
    public const uint ServerVersion = 1;
    public const uint EndpointFlags = 0x01 | 0x04 | 0x08;

    ITpmDevice _host = null!; // set by Start
    readonly ILogger _log;

    public Listener Command { get; }
    public Listener Platform { get; }

    /// <summary>The command port (the platform port is one more).</summary>
    public int Port => Command.Port;

    /// <summary>
    /// Binds P and P+1 (with port 0, finds a free consecutive pair); a busy port throws
    /// <see cref="ListenerException"/>. Nothing is served until <see cref="Start"/>.
    /// </summary>
    public MssimServer(EndpointOptions endpoint, ILogger log)
    {
        _log = log;
        (Command, Platform) = Listener.BindPair(endpoint, "mssim command port", "mssim platform port", log);
    }

    /// <summary>Starts serving <paramref name="host"/> on both ports.</summary>
    public void Start(ITpmDevice host)
    {
        _host = host;
        Command.Start(ServeCommandAsync, host.Stopping);
        Platform.Start(ServePlatformAsync, host.Stopping);
    }

    int MaxCommand => _host.MaxCommandSize;

    /// <summary>The command port: a blocking loop on a thread of its own per client (<see cref="CommandConnection"/>).</summary>
    Task ServeCommandAsync(Socket client, CancellationToken ct) =>
        CommandConnection.RunAsync(client, "vtpm mssim command", 9 + MaxCommand, 8 + _host.MaxResponseSize, ct, ServeCommand);

    void ServeCommand(CommandConnection client)
    {
        TpmCommandExecutor execute = (command, locality, response) =>
        {
            // A powered-off simulator answers with an empty response (ms-tpm-20-ref _rpc__Send_Command). A
            // powered-off engine executes nothing and answers TPM_RC_FAILURE, so the power line is asked only
            // after such an answer: over a ring (tpmfront) asking first would cost a second round trip per command.
            int n = _host.Execute(command, locality, response);
            return n == 10 && BinaryPrimitives.ReadUInt32BigEndian(response[6..]) == (uint)TpmRc.Failure.Code && !_host.IsPoweredOn ? 0 : n;
        };
        while (client.WaitForRequest())
        {
            uint code = client.ReadUInt32();
            byte[] reply;
            switch (code)
            {
                case SendCommand:
                    if (!client.ServeMssimCommand(execute, MaxCommand, _log)) return;
                    continue; // answered
                case RemoteHandshake:
                {
                    uint clientVersion = client.ReadUInt32();
                    if (clientVersion == 0) return; // version 0 is unsupported: end the session
                    reply = SocketIo.Words(ServerVersion, EndpointFlags, 0);
                    break;
                }
                case SetAlternativeResult:
                    client.Read(4); // not applicable to a simulator
                    reply = SocketIo.Words(0);
                    break;
                case SignalHashStart:
                    _host.HashStart();
                    reply = SocketIo.Words(0);
                    break;
                case SignalHashData:
                {
                    uint length = client.ReadUInt32();
                    if (length > (uint)MaxCommand) return;
                    _host.HashData(client.Read((int)length));
                    reply = SocketIo.Words(0);
                    break;
                }
                case SignalHashEnd:
                    _host.HashEnd();
                    reply = SocketIo.Words(0);
                    break;
                case SessionEnd:
                    return;
                case Stop:
                    _host.RequestStop("TPM_STOP on the mssim command port");
                    return;
                default:
                    _log.LogWarning("mssim: unknown command-port request {Code}; ending the session", code);
                    return;
            }
            client.Send(reply);
        }
    }

    async Task ServePlatformAsync(Socket client, CancellationToken ct)
    {
        while (true)
        {
            uint? code = await SocketIo.ReadUInt32Async(client, ct).ConfigureAwait(false);
            if (code is null) return;
            byte[] reply = SocketIo.Words(0);
            try
            {
                switch (code.Value)
                {
                    case SignalPowerOn:
                        // ms-tpm-20-ref: power-on of a powered TPM is ignored; otherwise _TPM_Init.
                        if (!_host.IsPoweredOn && !TryInit()) reply = SocketIo.Words(1);
                        break;
                    case SignalReset:
                    case SignalRestart:
                        // A reset (or restart) is _TPM_Init without the platform's power being removed.
                        if (!TryInit()) reply = SocketIo.Words(1);
                        break;
                    case SignalPowerOff:
                        _host.PowerOff(autoShutdown: false);
                        break;
                    case SignalPhysPresOn:
                        _host.SetPhysicalPresence(true);
                        break;
                    case SignalPhysPresOff:
                        _host.SetPhysicalPresence(false);
                        break;
                    case SignalCancelOn:
                        _host.SetCancel(true);
                        break;
                    case SignalCancelOff:
                        _host.SetCancel(false);
                        break;
                    case SignalNvOn:
                        _host.SetNvAvailable(true);
                        break;
                    case SignalNvOff:
                        _host.SetNvAvailable(false);
                        break;
                    case SignalKeyCacheOn:
                    case SignalKeyCacheOff:
                        break; // the reference's RSA key cache is a test speed-up; we have none
                    case GetCommandResponseSizes:
                    {
                        var (cs, c, rs, r) = _host.TakeSizeStatistics();
                        reply = SocketIo.Words(16, cs, c, rs, r, 0);
                        break;
                    }
                    case SessionEnd:
                        return;
                    case Stop:
                        _host.RequestStop("TPM_STOP on the mssim platform port");
                        return;
                    default:
                        _log.LogWarning("mssim: unknown platform request {Code}; ending the session", code.Value);
                        await SocketIo.SendAllAsync(client, SocketIo.Words(1), ct).ConfigureAwait(false);
                        return;
                }
            }
            catch (TpmDeviceException e)
            {
                // The TPM cannot be reached (tpmfront without a backend): a failed signal, not a dropped client.
                _log.LogWarning("mssim: platform request {Code}: {Error}", code.Value, e.Message);
                reply = SocketIo.Words(1);
            }
            await SocketIo.SendAllAsync(client, reply, ct).ConfigureAwait(false);
        }
    }

    bool TryInit()
    {
        try
        {
            _host.Init(autoShutdown: false);
            return true;
        }
        catch (Exception e) when (e is StateCorruptException or IOException or UnauthorizedAccessException)
        {
            _log.LogError("power on failed: {Error}", e.Message);
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Command.DisposeAsync().ConfigureAwait(false);
        await Platform.DisposeAsync().ConfigureAwait(false);
    }
}
