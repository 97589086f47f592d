using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Frontend;

namespace Vtpm.Tpmfront;

/// <summary>
/// swtpm's socket front end in front of the ring: the data channel (raw TPM bytes framed by the header's
/// size) and the control channel (tpm_ioctl.h) for what tpmif can carry: INIT, SHUTDOWN/STOP, locality,
/// TPM-established flag, hashing, cancel (a tpmif CANCEL), buffer size, config. State blobs and
/// STORE_VOLATILE are not offered (the vTPM's state belongs to the backend process).
/// </summary>
public sealed class SwtpmFront(RingTpm tpm, HostOptions options, ILogger log) : IAsyncDisposable
{
    // PTM_CAP_* bits of the commands below.
    const uint Capabilities = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7)
        | (1u << 10) | (1u << 11) | (1u << 13);

    volatile byte _locality;
    int _bufferSize = TpmHost.MaxBufferSize;

    public Listener? Data { get; private set; }
    public Listener? Control { get; private set; }

    public void Start()
    {
        if (options.Server is { } data)
        {
            Data = Listener.Bind(data, "data channel", log);
            Data.Start(ServeDataAsync, tpm.Stopping);
        }
        if (options.Control is { } ctrl)
        {
            Control = Listener.Bind(ctrl, "control channel", log);
            Control.Start(ServeControlAsync, tpm.Stopping);
        }
    }

    async Task ServeDataAsync(Socket client, CancellationToken ct)
    {
        try
        {
            var header = new byte[6];
            while (true)
            {
                if (!await SocketIo.ReadExactAsync(client, header, ct).ConfigureAwait(false)) return;
                uint size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
                if (size < 10 || size > (uint)Volatile.Read(ref _bufferSize))
                {
                    log.LogWarning("data channel: command size {Size} outside 10..{Max}; disconnecting the client", size, _bufferSize);
                    return;
                }
                var command = new byte[size];
                header.CopyTo(command, 0);
                if (!await SocketIo.ReadExactAsync(client, command.AsMemory(6), ct).ConfigureAwait(false))
                    throw new EndOfStreamException("peer closed inside a command");
                var response = tpm.Execute(command, _locality);
                await SocketIo.SendAllAsync(client, response, ct).ConfigureAwait(false);
                if (options.ServerDisconnect) return;
            }
        }
        finally
        {
            if (options.Terminate) tpm.RequestStop("data client disconnected (--terminate)");
        }
    }

    async Task ServeControlAsync(Socket client, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                uint? code = await SocketIo.ReadUInt32Async(client, ct).ConfigureAwait(false);
                if (code is null) return;
                var (response, close) = await HandleAsync(client, code.Value, ct).ConfigureAwait(false);
                await SocketIo.SendAllAsync(client, response, ct).ConfigureAwait(false);
                if (close) return;
                if (code == SwtpmServer.CmdShutdown)
                {
                    tpm.RequestStop("CMD_SHUTDOWN on the control channel");
                    return;
                }
            }
        }
        finally
        {
            if (options.ControlTerminate) tpm.RequestStop("control client disconnected (terminate)");
        }
    }


    static byte[] Result((Vtpm.Wire.TpmRc Rc, uint Result) r) => SocketIo.Words(r.Rc.IsError ? SwtpmServer.TpmFail : SwtpmServer.TpmSuccess);

    /// <summary>The u8 locality body (QEMU sends 4 bytes, tpm2-tss 1): read the byte, then pad bytes already there.</summary>
    static async ValueTask<byte> ReadLocalityAsync(Socket client, CancellationToken ct)
    {
        var b = await SocketIo.ReadBytesAsync(client, 1, ct).ConfigureAwait(false);
        int pad = Math.Min(3, client.Available);
        if (pad > 0) await SocketIo.ReadBytesAsync(client, pad, ct).ConfigureAwait(false);
        return b[0];
    }

    bool Running => tpm.Signal(PlatformSignal.Status) is { Rc.IsSuccess: true, Result: 1 };

    async ValueTask<(byte[] Response, bool Close)> HandleAsync(Socket client, uint code, CancellationToken ct)
    {
        switch (code)
        {
            case SwtpmServer.CmdGetCapability:
                return (SocketIo.Words(0, Capabilities), false);
            case SwtpmServer.CmdInit:
            {
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                // bit 0: delete volatile state; bit 1: swtpm's automatic Shutdown and configured Startup.
                return (Result(tpm.Signal(PlatformSignal.Init, (flags & 1) | 2)), false);
            }
            case SwtpmServer.CmdShutdown:
            case SwtpmServer.CmdStop:
                return (Result(tpm.Signal(PlatformSignal.Stop)), false);
            case SwtpmServer.CmdGetTpmEstablished:
            {
                var (rc, flag) = tpm.Signal(PlatformSignal.GetEstablished);
                if (rc.IsError) return (SocketIo.Words(SwtpmServer.TpmBadOrdinal), false);
                return ([0, 0, 0, 0, (byte)flag, 0, 0, 0], false);
            }
            case SwtpmServer.CmdSetLocality:
            {
                byte loc = await ReadLocalityAsync(client, ct).ConfigureAwait(false);
                if (loc > 4) return (SocketIo.Words(SwtpmServer.TpmBadLocality), false);
                _locality = loc;
                return (SocketIo.Words(SwtpmServer.TpmSuccess), false);
            }
            case SwtpmServer.CmdHashStart:
                return (Result(tpm.Signal(PlatformSignal.HashStart)), false);
            case SwtpmServer.CmdHashData:
            {
                uint length = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                if (length > 4096 - 18) return (SocketIo.Words(SwtpmServer.TpmFail), true);
                var data = await SocketIo.ReadBytesAsync(client, (int)length, ct).ConfigureAwait(false);
                return (Result(tpm.Signal(PlatformSignal.HashData, 0, data)), false);
            }
            case SwtpmServer.CmdHashEnd:
                return (Result(tpm.Signal(PlatformSignal.HashEnd)), false);
            case SwtpmServer.CmdCancelTpmCmd:
                tpm.Frontend.Cancel();
                return (SocketIo.Words(SwtpmServer.TpmSuccess), false);
            case SwtpmServer.CmdResetTpmEstablished:
            {
                byte loc = await ReadLocalityAsync(client, ct).ConfigureAwait(false);
                var (rc, _) = tpm.Signal(PlatformSignal.ResetEstablished, loc);
                return (SocketIo.Words(rc.IsSuccess ? SwtpmServer.TpmSuccess : rc.Code == Vtpm.Wire.TpmRc.Locality.Code ? SwtpmServer.TpmBadLocality : SwtpmServer.TpmBadOrdinal), false);
            }
            case SwtpmServer.CmdGetConfig:
                return (SocketIo.Words(SwtpmServer.TpmSuccess, 0), false);
            case SwtpmServer.CmdSetBufferSize:
            {
                uint requested = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                if (requested != 0)
                {
                    if (Running) return (SocketIo.Words(SwtpmServer.TpmBadOrdinal), false);
                    Volatile.Write(ref _bufferSize, (int)Math.Clamp(requested, (uint)TpmHost.MinBufferSize, (uint)TpmHost.MaxBufferSize));
                }
                return (SocketIo.Words(SwtpmServer.TpmSuccess, (uint)_bufferSize, TpmHost.MinBufferSize, TpmHost.MaxBufferSize), false);
            }
            default:
                log.LogDebug("control channel: unsupported command 0x{Code:x}", code);
                return (SocketIo.Words(SwtpmServer.TpmBadOrdinal), false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Data is not null) await Data.DisposeAsync().ConfigureAwait(false);
        if (Control is not null) await Control.DisposeAsync().ConfigureAwait(false);
    }
}
