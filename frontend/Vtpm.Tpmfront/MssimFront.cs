using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Frontend;

namespace Vtpm.Tpmfront;

/// <summary>
/// The Microsoft simulator protocol (command port P, platform port P+1) in front of the ring: the same
/// framing as vtpm's <see cref="MssimServer"/>, with TPM_SEND_COMMAND going through tpmif (locality in the
/// page), CANCEL_ON as a tpmif CANCEL, and the power/reset/PP/NV/hash lines as ring platform commands.
/// </summary>
public sealed class MssimFront(RingTpm tpm, EndpointOptions endpoint, ILogger log) : IAsyncDisposable
{
    const int MaxCommand = 4096;

    public Listener? Command { get; private set; }
    public Listener? Platform { get; private set; }
    public int Port => Command?.Port ?? 0;

    public void Start()
    {
        (Command, Platform) = Listener.BindPair(endpoint, "mssim command port", "mssim platform port", log);
        Command.Start(ServeCommandAsync, tpm.Stopping);
        Platform.Start(ServePlatformAsync, tpm.Stopping);
    }


    byte[] Ack((Vtpm.Wire.TpmRc Rc, uint Result) r) => SocketIo.Words(r.Rc.IsError ? 1u : 0u);

    async Task ServeCommandAsync(Socket client, CancellationToken ct)
    {
        while (true)
        {
            uint? code = await SocketIo.ReadUInt32Async(client, ct).ConfigureAwait(false);
            if (code is null) return;
            byte[] reply;
            switch (code.Value)
            {
                case MssimServer.SendCommand:
                {
                    var head = await SocketIo.ReadBytesAsync(client, 5, ct).ConfigureAwait(false);
                    uint size = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(1));
                    if (size > MaxCommand)
                    {
                        log.LogWarning("mssim: command of {Size} bytes exceeds {Max}; disconnecting the client", size, MaxCommand);
                        return;
                    }
                    var command = await SocketIo.ReadBytesAsync(client, (int)size, ct).ConfigureAwait(false);
                    // The ring wait blocks this thread (tpmif carries one request at a time anyway).
                    byte[] response = tpm.Execute(command, head[0]);
                    reply = new byte[4 + response.Length + 4];
                    BinaryPrimitives.WriteUInt32BigEndian(reply, (uint)response.Length);
                    response.CopyTo(reply, 4);
                    break;
                }
                case MssimServer.RemoteHandshake:
                {
                    uint? clientVersion = await SocketIo.ReadUInt32Async(client, ct).ConfigureAwait(false);
                    if (clientVersion is null or 0) return;
                    reply = SocketIo.Words(MssimServer.ServerVersion, MssimServer.EndpointFlags, 0);
                    break;
                }
                case MssimServer.SetAlternativeResult:
                    await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false);
                    reply = SocketIo.Words(0);
                    break;
                case MssimServer.SignalHashStart:
                    reply = Ack(tpm.Signal(PlatformSignal.HashStart));
                    break;
                case MssimServer.SignalHashData:
                {
                    uint length = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                    if (length > MaxCommand - 18) return;
                    var data = await SocketIo.ReadBytesAsync(client, (int)length, ct).ConfigureAwait(false);
                    reply = Ack(tpm.Signal(PlatformSignal.HashData, 0, data));
                    break;
                }
                case MssimServer.SignalHashEnd:
                    reply = Ack(tpm.Signal(PlatformSignal.HashEnd));
                    break;
                case MssimServer.SessionEnd:
                    return;
                case MssimServer.Stop:
                    tpm.RequestStop("TPM_STOP on the mssim command port");
                    return;
                default:
                    log.LogWarning("mssim: unknown command-port request {Code}; ending the session", code.Value);
                    return;
            }
            await SocketIo.SendAllAsync(client, reply, ct).ConfigureAwait(false);
        }
    }

    async Task ServePlatformAsync(Socket client, CancellationToken ct)
    {
        while (true)
        {
            uint? code = await SocketIo.ReadUInt32Async(client, ct).ConfigureAwait(false);
            if (code is null) return;
            byte[] reply = SocketIo.Words(0);
            switch (code.Value)
            {
                case MssimServer.SignalPowerOn: reply = Ack(tpm.Signal(PlatformSignal.PowerOn)); break;
                case MssimServer.SignalPowerOff: reply = Ack(tpm.Signal(PlatformSignal.PowerOff)); break;
                case MssimServer.SignalReset:
                case MssimServer.SignalRestart: reply = Ack(tpm.Signal(PlatformSignal.Init)); break;
                case MssimServer.SignalPhysPresOn: reply = Ack(tpm.Signal(PlatformSignal.PhysicalPresence, 1)); break;
                case MssimServer.SignalPhysPresOff: reply = Ack(tpm.Signal(PlatformSignal.PhysicalPresence, 0)); break;
                case MssimServer.SignalCancelOn: tpm.Frontend.Cancel(); break; // tpmif CANCEL of the command in flight
                case MssimServer.SignalCancelOff: break;
                case MssimServer.SignalNvOn: reply = Ack(tpm.Signal(PlatformSignal.NvAvailable, 1)); break;
                case MssimServer.SignalNvOff: reply = Ack(tpm.Signal(PlatformSignal.NvAvailable, 0)); break;
                case MssimServer.SignalKeyCacheOn:
                case MssimServer.SignalKeyCacheOff: break;
                case MssimServer.GetCommandResponseSizes:
                {
                    var (cs, c, rs, r) = tpm.TakeSizeStatistics();
                    reply = SocketIo.Words(16, cs, c, rs, r, 0);
                    break;
                }
                case MssimServer.SessionEnd:
                    return;
                case MssimServer.Stop:
                    tpm.RequestStop("TPM_STOP on the mssim platform port");
                    return;
                default:
                    log.LogWarning("mssim: unknown platform request {Code}; ending the session", code.Value);
                    await SocketIo.SendAllAsync(client, SocketIo.Words(1), ct).ConfigureAwait(false);
                    return;
            }
            await SocketIo.SendAllAsync(client, reply, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Command is not null) await Command.DisposeAsync().ConfigureAwait(false);
        if (Platform is not null) await Platform.DisposeAsync().ConfigureAwait(false);
    }
}
