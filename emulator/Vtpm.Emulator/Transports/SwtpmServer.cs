using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Tpm2.State;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// swtpm's socket front end: the data channel (raw TPM command bytes, each framed by its header's size
/// field) and the control channel (stefanberger/swtpm include/swtpm/tpm_ioctl.h: 4-byte big-endian
/// command code + that command's fixed body; response = 4-byte result + body, or the result alone on error).
/// </summary>
public sealed class SwtpmServer : IAsyncDisposable
{
    // tpm_ioctl.h CMD_* codes.
    public const uint CmdGetCapability = 0x01, CmdInit = 0x02, CmdShutdown = 0x03, CmdGetTpmEstablished = 0x04,
        CmdSetLocality = 0x05, CmdHashStart = 0x06, CmdHashData = 0x07, CmdHashEnd = 0x08, CmdCancelTpmCmd = 0x09,
        CmdStoreVolatile = 0x0A, CmdResetTpmEstablished = 0x0B, CmdGetStateBlob = 0x0C, CmdSetStateBlob = 0x0D,
        CmdStop = 0x0E, CmdGetConfig = 0x0F,
        CmdSetBufferSize = 0x11;

    // TPM 1.2 result codes swtpm uses on the control channel.
    public const uint TpmSuccess = 0, TpmFail = 0x09, TpmBadParameter = 0x03, TpmBadOrdinal = 0x0A, TpmBadLocality = 0x3D,
        TpmRetry = 0x800;

    // PTM_CAP_* bits for exactly the commands implemented below.
    public const uint Capabilities =
        (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7)
        | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 13);

    const uint PtmInitFlagDeleteVolatile = 1;
    const uint PtmConfigFlagFileKey = 1;
    const int MaxHashData = 4096; // ptm_hdata.data
    const int MaxStateBlob = 1 << 20;

    readonly TpmHost _host;
    readonly HostOptions _options;
    readonly ILogger _log;

    public Listener? Data { get; private set; }
    public Listener? Control { get; private set; }

    public SwtpmServer(TpmHost host, HostOptions options, ILogger log)
    {
        _host = host;
        _options = options;
        _log = log;
    }

    /// <summary>Binds both channels and starts serving.</summary>
    public void Start()
    {
        if (_options.Server is { } data)
        {
            Data = Listener.Bind(data, "data channel", _log);
            Data.Start(ServeDataAsync, _host.Stopping);
        }
        if (_options.Control is { } ctrl)
        {
            Control = Listener.Bind(ctrl, "control channel", _log);
            Control.Start(ServeControlAsync, _host.Stopping);
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
                if (size < 10 || size > (uint)_host.BufferSize)
                {
                    // The size field is the only framing: a bad one leaves the stream unsynchronized.
                    _log.LogWarning("data channel: command size {Size} outside 10..{Max}; disconnecting the client", size, _host.BufferSize);
                    return;
                }
                var command = new byte[size];
                header.CopyTo(command, 0);
                if (!await SocketIo.ReadExactAsync(client, command.AsMemory(6), ct).ConfigureAwait(false))
                    throw new EndOfStreamException("peer closed inside a command");
                var response = _host.Execute(command, _host.Locality);
                await SocketIo.SendAllAsync(client, response, ct).ConfigureAwait(false);
                if (_options.ServerDisconnect) return;
            }
        }
        finally
        {
            if (_options.Terminate) _host.RequestStop("data client disconnected (--terminate)");
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
                var (response, close) = await HandleControlAsync(client, code.Value, ct).ConfigureAwait(false);
                await SocketIo.SendAllAsync(client, response, ct).ConfigureAwait(false);
                if (close) return;
                if (code == CmdShutdown)
                {
                    _host.RequestStop("CMD_SHUTDOWN on the control channel");
                    return;
                }
            }
        }
        finally
        {
            if (_options.ControlTerminate) _host.RequestStop("control client disconnected (terminate)");
        }
    }

    /// <summary>
    /// The body of SET_LOCALITY / RESET_TPMESTABLISHED is a u8 locality. QEMU sends the whole 4-byte request
    /// union (locality + 3 pad bytes) but tpm2-tss's swtpm TCTI sends the single byte (swtpm takes whatever one
    /// read returns). So read the byte, then consume up to 3 pad bytes only if they already arrived with it.
    /// </summary>
    static async ValueTask<byte> ReadLocalityAsync(Socket client, CancellationToken ct)
    {
        var b = await SocketIo.ReadBytesAsync(client, 1, ct).ConfigureAwait(false);
        int pad = Math.Min(3, client.Available);
        if (pad > 0) await SocketIo.ReadBytesAsync(client, pad, ct).ConfigureAwait(false);
        return b[0];
    }

    static byte[] Result(uint rc)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, rc);
        return b;
    }

    static byte[] Words(params uint[] words)
    {
        var b = new byte[4 * words.Length];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 * i), words[i]);
        return b;
    }

    async ValueTask<(byte[] Response, bool Close)> HandleControlAsync(Socket client, uint code, CancellationToken ct)
    {
        bool running = _host.IsPoweredOn;
        switch (code)
        {
            case CmdGetCapability:
                // ptm_cap is 64 bits: the upper half is zero.
                return (Words(0, Capabilities), false);

            case CmdInit:
            {
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                try
                {
                    _host.Init((flags & PtmInitFlagDeleteVolatile) != 0);
                    return (Result(TpmSuccess), false);
                }
                catch (Exception e) when (e is StateCorruptException or IOException or UnauthorizedAccessException)
                {
                    _log.LogError("CMD_INIT failed: {Error}", e.Message);
                    return (Result(TpmFail), false);
                }
            }

            case CmdShutdown:
                _host.PowerOff(autoShutdown: true);
                return (Result(TpmSuccess), false);

            case CmdGetTpmEstablished:
                if (!running) return (Result(TpmBadOrdinal), false);
                return ([0, 0, 0, 0, _host.Engine.TpmEstablished ? (byte)1 : (byte)0, 0, 0, 0], false);

            case CmdSetLocality:
            {
                byte loc = await ReadLocalityAsync(client, ct).ConfigureAwait(false);
                if (loc > 4) return (Result(TpmBadLocality), false);
                lock (_host.Gate) _host.Locality = loc;
                return (Result(TpmSuccess), false);
            }

            case CmdHashStart:
                if (!running) return (Result(TpmBadOrdinal), false);
                return (Result(_host.Engine.HashStart() ? TpmSuccess : TpmFail), false);

            case CmdHashData:
            {
                uint length = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                if (length > MaxHashData)
                {
                    _log.LogWarning("CMD_HASH_DATA length {Length} > {Max}; disconnecting the client", length, MaxHashData);
                    return (Result(TpmFail), true);
                }
                var data = await SocketIo.ReadBytesAsync(client, (int)length, ct).ConfigureAwait(false);
                if (!running) return (Result(TpmBadOrdinal), false);
                return (Result(_host.Engine.HashData(data) ? TpmSuccess : TpmFail), false);
            }

            case CmdHashEnd:
                if (!running) return (Result(TpmBadOrdinal), false);
                return (Result(_host.Engine.HashEnd() ? TpmSuccess : TpmFail), false);

            case CmdCancelTpmCmd:
                if (!running) return (Result(TpmBadOrdinal), false);
                _host.CancelPulse();
                return (Result(TpmSuccess), false);

            case CmdStoreVolatile:
                if (!running) return (Result(TpmBadOrdinal), false);
                try
                {
                    _host.Engine.StoreVolatile();
                    return (Result(TpmSuccess), false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log.LogError("CMD_STORE_VOLATILE failed: {Error}", e.Message);
                    return (Result(TpmFail), false);
                }

            case CmdResetTpmEstablished:
            {
                byte loc = await ReadLocalityAsync(client, ct).ConfigureAwait(false);
                if (!running) return (Result(TpmBadOrdinal), false);
                return (Result(_host.Engine.ResetTpmEstablished(loc) ? TpmSuccess : TpmBadLocality), false);
            }

            case CmdGetStateBlob:
            {
                // ptm_getstate: u32 state_flags, u32 type, u32 offset → u32 result, u32 state_flags, u32 totlength,
                // u32 length, data. The whole blob goes in one answer (QEMU requires totlength == length).
                var req = await SocketIo.ReadBytesAsync(client, 12, ct).ConfigureAwait(false);
                uint type = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(4));
                uint offset = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(8));
                if (type is < 1 or > 3) return (Result(TpmBadParameter), false);
                var kind = (StateBlobKind)type;
                byte[]? payload;
                try
                {
                    // The volatile blob of a running TPM is its RAM now; the others are what the store holds.
                    payload = kind == StateBlobKind.Volatile && running ? _host.Engine.SerializeVolatile() : _host.Store.Load(kind);
                }
                catch (StateCorruptException e)
                {
                    _log.LogError("CMD_GET_STATEBLOB: {Error}", e.Message);
                    return (Result(TpmFail), false);
                }
                if (payload is null)
                {
                    // swtpm answers a missing blob with TPM_RETRY and an empty body, which QEMU tolerates.
                    return (Words(TpmRetry, 0, 0, 0), false);
                }
                // Sealed (integrity + format version, not encrypted) so a damaged migration stream is detected.
                var blob = StateEnvelope.Seal(kind, payload, null);
                if (offset > blob.Length) return (Result(TpmBadParameter), false);
                var part = blob.AsSpan((int)offset);
                return ([.. Words(TpmSuccess, 0, (uint)part.Length, (uint)part.Length), .. part], false);
            }

            case CmdSetStateBlob:
            {
                // ptm_setstate: u32 state_flags, u32 type, u32 length, then length bytes (possibly in later writes).
                var req = await SocketIo.ReadBytesAsync(client, 12, ct).ConfigureAwait(false);
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(req);
                uint type = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(4));
                uint length = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(8));
                if (length > MaxStateBlob)
                {
                    _log.LogWarning("CMD_SET_STATEBLOB of {Length} bytes refused; disconnecting the client", length);
                    return (Result(TpmBadParameter), true);
                }
                var data = await SocketIo.ReadBytesAsync(client, (int)length, ct).ConfigureAwait(false);
                if (running) return (Result(TpmBadOrdinal), false); // only while stopped, as swtpm
                if (type is < 1 or > 3 || (flags & 2) != 0) return (Result(TpmBadParameter), false); // no migration key: no encrypted blobs
                var kind = (StateBlobKind)type;
                try
                {
                    var payload = StateEnvelope.Open(kind, data, null, $"CMD_SET_STATEBLOB({kind})");
                    _host.Store.Save(kind, payload);
                    return (Result(TpmSuccess), false);
                }
                catch (StateCorruptException e)
                {
                    _log.LogError("{Error}", e.Message);
                    return (Result(TpmFail), false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log.LogError("CMD_SET_STATEBLOB: {Error}", e.Message);
                    return (Result(TpmFail), false);
                }
            }

            case CmdStop:
                _host.PowerOff(autoShutdown: true);
                return (Result(TpmSuccess), false);

            case CmdGetConfig:
                return (Words(TpmSuccess, _host.HasFileKey ? PtmConfigFlagFileKey : 0), false);

            case CmdSetBufferSize:
            {
                uint requested = BinaryPrimitives.ReadUInt32BigEndian(await SocketIo.ReadBytesAsync(client, 4, ct).ConfigureAwait(false));
                // Only while stopped, as swtpm: the TPM's size cannot change under a running OS.
                if (running) return (Result(TpmBadOrdinal), false);
                int size = _host.SetBufferSize((int)Math.Min(requested, int.MaxValue));
                return (Words(TpmSuccess, (uint)size, TpmHost.MinBufferSize, TpmHost.MaxBufferSize), false);
            }

            default:
                _log.LogDebug("control channel: unsupported command 0x{Code:x}", code);
                return (Result(TpmBadOrdinal), false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Data is not null) await Data.DisposeAsync().ConfigureAwait(false);
        if (Control is not null) await Control.DisposeAsync().ConfigureAwait(false);
    }
}
