using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

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
        CmdStop = 0x0E, CmdGetConfig = 0x0F, CmdSetDataFd = 0x10, CmdSetBufferSize = 0x11, CmdGetInfo = 0x12,
        CmdLockStorage = 0x13;

    // TPM 1.2 result codes swtpm uses on the control channel.
    public const uint TpmSuccess = 0, TpmFail = 0x09, TpmBadParameter = 0x03, TpmBadOrdinal = 0x0A, TpmIoError = 0x1F,
        TpmBadLocality = 0x3D, TpmRetry = 0x800;

    // PTM_CAP_* bits for exactly the commands implemented below.
    public const uint Capabilities =
        (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7)
        | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 16);

    // ptm_getinfo flags (SWTPM_INFO_*).
    public const ulong InfoTpmSpecification = 1, InfoTpmAttributes = 2;

    const uint PtmInitFlagDeleteVolatile = 1;
    const uint PtmConfigFlagFileKey = 1;
    const int MaxHashData = 4096; // ptm_hdata.data
    const int MaxStateBlob = 1 << 20;

    /// <summary>
    /// How long the rest of a request may take once its command code arrived. QEMU writes code and body in
    /// one write (SET_STATEBLOB's data follows at once); a client that sends a short body and waits gets the
    /// answer swtpm gives a short read instead of a hang.
    /// </summary>
    public static TimeSpan BodyTimeout { get; set; } = TimeSpan.FromSeconds(1);

    // The data channel handed over with CMD_SET_DATAFD (one at a time, as swtpm).
    readonly object _fdGate = new();
    Socket? _fdSocket;
    Task? _fdTask;

    ITpmDevice _host = null!; // set by Start
    readonly HostOptions _options;
    readonly ILogger _log;

    public Listener? Data { get; }
    public Listener? Control { get; }

    /// <summary>
    /// Binds both channels (a busy address throws <see cref="ListenerException"/> and leaves nothing bound);
    /// nothing is served until <see cref="Start"/>. Binding comes first so that a second instance given the
    /// same ports stops before it touches any state.
    /// </summary>
    public SwtpmServer(HostOptions options, ILogger log)
    {
        _options = options;
        _log = log;
        if (options.Server is { } data) Data = Listener.Bind(data, "data channel", log);
        try
        {
            if (options.Control is { } ctrl) Control = Listener.Bind(ctrl, "control channel", log);
        }
        catch
        {
            Data?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Starts serving <paramref name="host"/> on the bound channels.</summary>
    public void Start(ITpmDevice host)
    {
        _host = host;
        Data?.Start(ServeDataAsync, host.Stopping);
        Control?.Start(ServeControlAsync, host.Stopping);
    }

    Task ServeDataAsync(Socket client, CancellationToken ct) => ServeDataConnectionAsync(client, _options.ServerDisconnect, _options.Terminate, ct);

    /// <summary>
    /// One data connection: bare TPM commands framed by their size field, answered one at a time, each
    /// response in one write (QEMU's version probe needs the whole answer in one read()), by a blocking loop
    /// on a thread of its own (<see cref="CommandConnection"/>).
    /// </summary>
    Task ServeDataConnectionAsync(Socket client, bool disconnectAfterEach, bool terminate, CancellationToken ct) =>
        CommandConnection.RunAsync(client, "vtpm data", TpmHost.MaxBufferSize, _host.MaxResponseSize, ct, connection =>
        {
            try
            {
                connection.ServeTpmCommands(_host.Execute, () => _host.Locality, () => _host.BufferSize, disconnectAfterEach, _log);
            }
            finally
            {
                if (terminate) _host.RequestStop("data client disconnected (--terminate)");
            }
        });

    /// <summary>
    /// CMD_SET_DATAFD: serve the socket QEMU passed as the data channel. Like swtpm 0.7.1, a second
    /// descriptor while the first connection is still open is refused with TPM_IOERROR (the first stays in
    /// use); once the first peer has closed, a new one is accepted.
    /// </summary>
    uint InstallDataFd(int fd)
    {
        if (fd < 0) return TpmBadParameter; // no SCM_RIGHTS descriptor came with the request
        lock (_fdGate)
        {
            if (_fdTask is { IsCompleted: false })
            {
                ControlStream.Close(fd);
                _log.LogWarning("CMD_SET_DATAFD: a data channel is already in use; the new descriptor is refused");
                return TpmIoError;
            }
            Socket socket;
            try
            {
                socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            }
            catch (SocketException e)
            {
                ControlStream.Close(fd);
                _log.LogWarning("CMD_SET_DATAFD: the descriptor is not a socket: {Error}", e.Message);
                return TpmBadParameter;
            }
            if (socket.SocketType != SocketType.Stream)
            {
                socket.Dispose();
                return TpmBadParameter;
            }
            _fdSocket?.Dispose();
            _fdSocket = socket;
            var ct = _host.Stopping;
            _fdTask = Task.Run(async () =>
            {
                try
                {
                    await ServeDataConnectionAsync(socket, disconnectAfterEach: false, terminate: _options.Terminate, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or EndOfStreamException or IOException)
                {
                    _log.LogDebug("data channel (fd): closed: {Error}", e.Message);
                }
                finally
                {
                    socket.Dispose();
                }
            }, CancellationToken.None);
            _log.LogInformation("data channel received with CMD_SET_DATAFD");
            return TpmSuccess;
        }
    }

    async Task ServeControlAsync(Socket client, CancellationToken ct)
    {
        using var stream = new ControlStream(client);
        var codeBytes = new byte[4];
        try
        {
            while (true)
            {
                if (!await stream.ReadExactAsync(codeBytes, ct).ConfigureAwait(false)) return;
                uint code = BinaryPrimitives.ReadUInt32BigEndian(codeBytes);
                byte[] response;
                bool close;
                try
                {
                    (response, close) = await HandleControlAsync(stream, code, ct).ConfigureAwait(false);
                }
                catch (ShortRequestException e)
                {
                    // swtpm answers a short SET_BUFFERSIZE / GET_INFO with TPM_BAD_PARAMETER and drops the
                    // client on the other short requests.
                    _log.LogWarning("control channel: request 0x{Code:x} shorter than its body; {Action}", code, e.Answer is null ? "disconnecting" : "refused");
                    if (e.Answer is null) return;
                    stream.DiscardBuffered();
                    (response, close) = (Result(e.Answer.Value), false);
                }
                catch (TpmDeviceException e)
                {
                    // The TPM cannot be reached (tpmfront without a backend): swtpm's answer when libtpms fails.
                    _log.LogWarning("control channel: request 0x{Code:x}: {Error}", code, e.Message);
                    (response, close) = (Result(TpmFail), false);
                }
                // Descriptors attached to anything but SET_DATAFD are not used.
                if (code != CmdSetDataFd && stream.Buffered == 0) stream.DiscardFds();
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
    static async ValueTask<byte> ReadLocalityAsync(ControlStream client, CancellationToken ct)
    {
        var b = await ReadBodyAsync(client, 1, null, ct).ConfigureAwait(false);
        int pad = Math.Min(3, client.Buffered);
        if (pad > 0) await ReadBodyAsync(client, pad, null, ct).ConfigureAwait(false);
        return b[0];
    }

    /// <summary>A request whose body did not arrive within <see cref="BodyTimeout"/> (or before the peer closed).</summary>
    sealed class ShortRequestException(uint? answer) : Exception("short control request")
    {
        public uint? Answer { get; } = answer;
    }

    /// <summary>Reads <paramref name="n"/> body bytes; a short body throws <see cref="ShortRequestException"/> with swtpm's answer.</summary>
    static async ValueTask<byte[]> ReadBodyAsync(ControlStream client, int n, uint? shortAnswer, CancellationToken ct, TimeSpan? timeout = null)
    {
        var b = new byte[n];
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? BodyTimeout);
        try
        {
            if (await client.ReadExactAsync(b, cts.Token).ConfigureAwait(false)) return b;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        throw new ShortRequestException(shortAnswer);
    }

    static uint U32(byte[] b, int offset = 0) => BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(offset));

    static byte[] Result(uint rc)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, rc);
        return b;
    }


    async ValueTask<(byte[] Response, bool Close)> HandleControlAsync(ControlStream client, uint code, CancellationToken ct)
    {
        // Asked only once the request's body has been read: a device that cannot answer (TpmDeviceException)
        // then leaves the stream in step.
        bool Running() => _host.IsPoweredOn;
        switch (code)
        {
            case CmdGetCapability:
                // ptm_cap is 64 bits: the upper half is zero.
                return (SocketIo.Words(0, Capabilities), false);

            case CmdInit:
            {
                uint flags = U32(await ReadBodyAsync(client, 4, null, ct).ConfigureAwait(false));
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
                if (!Running()) return (Result(TpmBadOrdinal), false);
                return ([0, 0, 0, 0, _host.TpmEstablished ? (byte)1 : (byte)0, 0, 0, 0], false);

            case CmdSetLocality:
            {
                byte loc = await ReadLocalityAsync(client, ct).ConfigureAwait(false);
                if (loc > 4) return (Result(TpmBadLocality), false);
                _host.Locality = loc;
                return (Result(TpmSuccess), false);
            }

            case CmdHashStart:
                if (!Running()) return (Result(TpmBadOrdinal), false);
                return (Result(_host.HashStart() ? TpmSuccess : TpmFail), false);

            case CmdHashData:
            {
                uint length = U32(await ReadBodyAsync(client, 4, null, ct).ConfigureAwait(false));
                if (length > MaxHashData)
                {
                    _log.LogWarning("CMD_HASH_DATA length {Length} > {Max}; disconnecting the client", length, MaxHashData);
                    return (Result(TpmFail), true);
                }
                var data = await ReadBodyAsync(client, (int)length, null, ct).ConfigureAwait(false);
                if (!Running()) return (Result(TpmBadOrdinal), false);
                return (Result(_host.HashData(data) ? TpmSuccess : TpmFail), false);
            }

            case CmdHashEnd:
                if (!Running()) return (Result(TpmBadOrdinal), false);
                return (Result(_host.HashEnd() ? TpmSuccess : TpmFail), false);

            case CmdCancelTpmCmd:
                if (!Running()) return (Result(TpmBadOrdinal), false);
                _host.CancelPulse();
                return (Result(TpmSuccess), false);

            case CmdStoreVolatile:
                if (!Running()) return (Result(TpmBadOrdinal), false);
                try
                {
                    _host.StoreVolatile();
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
                if (!Running()) return (Result(TpmBadOrdinal), false);
                return (Result(_host.ResetTpmEstablished(loc) ? TpmSuccess : TpmBadLocality), false);
            }

            case CmdGetStateBlob:
            {
                // ptm_getstate: u32 state_flags, u32 type, u32 offset → u32 result, u32 state_flags, u32 totlength,
                // u32 length, data. The whole blob goes in one answer (QEMU requires totlength == length).
                var req = await ReadBodyAsync(client, 12, null, ct).ConfigureAwait(false);
                uint type = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(4));
                uint offset = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(8));
                // As swtpm: only a running TPM hands out its state (QEMU asks while the VM is live).
                if (!Running()) return (Result(TpmBadOrdinal), false);
                if (type is < 1 or > 3) return (Result(TpmBadParameter), false);
                var kind = (StateBlobKind)type;
                byte[]? payload;
                try
                {
                    // The volatile blob of a running TPM is its RAM now; the others are what the store holds.
                    payload = _host.GetStateBlob(kind);
                }
                catch (Exception e) when (e is StateCorruptException or IOException)
                {
                    _log.LogError("CMD_GET_STATEBLOB: {Error}", e.Message);
                    return (Result(TpmFail), false);
                }
                if (payload is null)
                {
                    // swtpm answers a missing blob with TPM_RETRY and an empty body, which QEMU tolerates.
                    return (SocketIo.Words(TpmRetry, 0, 0, 0), false);
                }
                // Sealed (integrity + format version, not encrypted) so a damaged migration stream is detected.
                var blob = StateEnvelope.Seal(kind, payload, null);
                if (offset > blob.Length) return (Result(TpmBadParameter), false);
                var part = blob.AsSpan((int)offset);
                return ([.. SocketIo.Words(TpmSuccess, 0, (uint)part.Length, (uint)part.Length), .. part], false);
            }

            case CmdSetStateBlob:
            {
                // ptm_setstate: u32 state_flags, u32 type, u32 length, then length bytes (possibly in later writes).
                var req = await ReadBodyAsync(client, 12, null, ct).ConfigureAwait(false);
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(req);
                uint type = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(4));
                uint length = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(8));
                if (length > MaxStateBlob)
                {
                    _log.LogWarning("CMD_SET_STATEBLOB of {Length} bytes refused; disconnecting the client", length);
                    return (Result(TpmBadParameter), true);
                }
                // A blob can be large: allow it time proportional to nothing QEMU does, but never hang forever.
                var data = await ReadBodyAsync(client, (int)length, null, ct, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (Running()) return (Result(TpmBadOrdinal), false); // only while stopped, as swtpm
                if (type is < 1 or > 3 || (flags & 2) != 0) return (Result(TpmBadParameter), false); // no migration key: no encrypted blobs
                var kind = (StateBlobKind)type;
                try
                {
                    var payload = StateEnvelope.Open(kind, data, null, $"CMD_SET_STATEBLOB({kind})");
                    _host.SetStateBlob(kind, payload);
                    return (Result(TpmSuccess), false);
                }
                catch (StateCorruptException e)
                {
                    // Nothing is stored: a truncated or tampered blob never reaches the state directory.
                    _log.LogError("{Error}", e.Message);
                    return (Result(TpmBadParameter), false);
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
                return (SocketIo.Words(TpmSuccess, _host.HasFileKey ? PtmConfigFlagFileKey : 0), false);

            case CmdSetBufferSize:
            {
                uint requested = U32(await ReadBodyAsync(client, 4, TpmBadParameter, ct).ConfigureAwait(false));
                // Only while stopped, as swtpm: the TPM's size cannot change under a running OS.
                if (Running()) return (Result(TpmBadOrdinal), false);
                int size = _host.SetBufferSize((int)Math.Min(requested, int.MaxValue));
                return (SocketIo.Words(TpmSuccess, (uint)size, TpmHost.MinBufferSize, TpmHost.MaxBufferSize), false);
            }

            case CmdSetDataFd:
                return (Result(InstallDataFd(client.TakeFd())), false);

            case CmdGetInfo:
            {
                // ptm_getinfo: u64 flags, u32 offset, u32 pad → u32 result, u32 totlength, u32 length, JSON text
                // (NUL-terminated, as swtpm) from offset.
                var req = await ReadBodyAsync(client, 16, TpmBadParameter, ct).ConfigureAwait(false);
                ulong flags = BinaryPrimitives.ReadUInt64BigEndian(req);
                uint offset = U32(req, 8);
                var text = System.Text.Encoding.UTF8.GetBytes(InfoJson(flags) + "\0");
                if (offset > text.Length) return (Result(TpmBadParameter), false);
                var part = text.AsSpan((int)offset);
                return ([.. SocketIo.Words(TpmSuccess, (uint)text.Length, (uint)part.Length), .. part], false);
            }

            case CmdLockStorage:
            {
                // ptm_lockstorage: u32 retries. The state directory is locked for the whole life of the
                // process (DirectoryStateStore takes the lock at start), so the lock is already held.
                _ = await ReadBodyAsync(client, 4, null, ct).ConfigureAwait(false);
                return (Result(TpmSuccess), false);
            }

            default:
                _log.LogDebug("control channel: unsupported command 0x{Code:x}", code);
                return (Result(TpmBadOrdinal), false);
        }
    }

    /// <summary>
    /// The JSON of CMD_GET_INFO for SWTPM_INFO_TPMSPECIFICATION and SWTPM_INFO_TPMATTRIBUTES (other bits are
    /// ignored, as swtpm ignores the ones its libtpms does not know), from the TPM's own fixed properties.
    /// </summary>
    public string InfoJson(ulong flags)
    {
        var parts = new List<string>();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if ((flags & InfoTpmSpecification) != 0)
        {
            uint level = _host.FixedProperty(TpmPt.Level) ?? 0;
            uint revision = _host.FixedProperty(TpmPt.Revision) ?? 0;
            parts.Add(string.Format(inv, "\"TPMSpecification\":{{\"family\":\"2.0\",\"level\":{0},\"revision\":{1}}}", level, revision));
        }
        if ((flags & InfoTpmAttributes) != 0)
        {
            uint manufacturer = _host.FixedProperty(TpmPt.Manufacturer) ?? 0;
            uint version = _host.FixedProperty(TpmPt.FirmwareVersion1) ?? 0;
            parts.Add(string.Format(inv, "\"TPMAttributes\":{{\"manufacturer\":\"id:{0:X8}\",\"version\":\"id:{1:X8}\",\"model\":\"vtpm\"}}", manufacturer, version));
        }
        return "{" + string.Join(",", parts) + "}";
    }

    public async ValueTask DisposeAsync()
    {
        Task? fdTask;
        lock (_fdGate)
        {
            _fdSocket?.Dispose();
            fdTask = _fdTask;
        }
        if (fdTask is not null) await fdTask.ConfigureAwait(false);
        if (Data is not null) await Data.DisposeAsync().ConfigureAwait(false);
        if (Control is not null) await Control.DisposeAsync().ConfigureAwait(false);
    }
}
