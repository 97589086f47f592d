using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;
using Vtpm.Tpm2.Commands.Capability;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Emulator;

/// <summary>
/// One hosted TPM instance shared by all transports: serializes commands and platform signals (one lock
/// per instance), keeps the swtpm control state (locality, buffer size), sends the automatic
/// TPM2_Shutdown(CLEAR) before a reset or exit, and writes the trace log.
/// </summary>
public sealed class TpmHost : ITpmDevice, IDisposable
{
    /// <summary>swtpm's TPM 2.0 buffer-size bounds for CMD_SET_BUFFERSIZE.</summary>
    public const int MinBufferSize = 2808;
    public const int MaxBufferSize = 4096;

    readonly object _gate = new();
    readonly ILogger _log;
    readonly byte[] _response;
    readonly CancellationTokenSource _stop = new();
    bool _shutDownSent;
    bool _cancelPulse;

    public Tpm2Engine Engine { get; }
    public IStateStore Store { get; }
    public StartupFlag StartupFlag { get; init; }
    public bool AutoShutdown { get; init; } = true;
    public bool Trace { get; init; }
    public bool HasFileKey { get; init; }

    byte _locality;

    /// <summary>Locality for data-channel commands (swtpm CMD_SET_LOCALITY); set between commands, never during one.</summary>
    public byte Locality
    {
        get => _locality;
        set
        {
            lock (_gate) _locality = value;
        }
    }

    /// <summary>Largest command accepted on the data channels (swtpm CMD_SET_BUFFERSIZE).</summary>
    public int BufferSize { get; private set; } = MaxBufferSize;

    /// <summary>Set when the process should exit (ctrl SHUTDOWN, mssim STOP, terminate).</summary>
    public CancellationToken Stopping => _stop.Token;

    public string? StopReason { get; private set; }

    // MS simulator TPM_GET_COMMAND_RESPONSE_SIZES statistics (largest since the last query).
    uint _largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse;

    public TpmHost(IStateStore store, ILogger log, Tpm2Options? options = null)
    {
        Store = store;
        _log = log;
        Engine = new Tpm2Engine(store, options);
        _response = new byte[Math.Max(Engine.Options.MaxResponseSize, MaxBufferSize)];
    }

    public object Gate => _gate;

    public bool IsPoweredOn => Engine.IsPoweredOn;

    /// <summary>Asks every transport to stop; the process exits once they have.</summary>
    public void RequestStop(string reason)
    {
        lock (_gate) StopReason ??= reason;
        _log.LogInformation("stopping: {Reason}", reason);
        _stop.Cancel();
    }

    /// <summary>
    /// _TPM_Init (swtpm CMD_INIT, MS POWER_ON/RESET): the automatic Shutdown first if the TPM is running, then
    /// Init, then the configured TPM2_Startup. A corrupt state blob propagates as StateCorruptException with
    /// the blob's file path.
    /// </summary>
    public void Init(bool deleteVolatile = false, bool autoShutdown = true, bool sendStartup = true)
    {
        lock (_gate)
        {
            if (autoShutdown) SendAutoShutdown();
            try
            {
                Engine.Init(deleteVolatile);
            }
            catch (StateCorruptException e) when (Store is DirectoryStateStore d && Enum.TryParse<StateBlobKind>(e.Location, out var kind))
            {
                // The engine names the blob kind; say which file it is.
                throw new StateCorruptException(d.PathOf(kind), e.Message);
            }
            _shutDownSent = false;
            _log.LogInformation("TPM initialized (_TPM_Init)");
            if (sendStartup && StartupFlag != StartupFlag.None)
            {
                var su = StartupFlag == StartupFlag.State ? TpmSu.State : TpmSu.Clear;
                Span<byte> cmd = stackalloc byte[12];
                WriteHeader(cmd, TpmCc.Startup);
                BinaryPrimitives.WriteUInt16BigEndian(cmd[10..], (ushort)su);
                var rsp = ExecuteLocked(cmd, 0);
                var rc = ResponseCode(rsp);
                if (rc.IsError) _log.LogWarning("automatic TPM2_Startup({Su}) failed: {Rc}", su, rc);
            }
        }
    }

    /// <summary>Power off (swtpm CMD_STOP / CMD_SHUTDOWN, MS POWER_OFF), optionally after the automatic Shutdown.</summary>
    public void PowerOff(bool autoShutdown)
    {
        lock (_gate)
        {
            if (autoShutdown) SendAutoShutdown();
            Engine.PowerOff();
        }
    }

    /// <summary>
    /// swtpm's auto-shutdown: TPM2_Shutdown(CLEAR) before a reset or exit unless disabled or the TPM was not
    /// started or already shut down, so the next boot is orderly (no DA lockout for a disorderly shutdown).
    /// </summary>
    public void SendAutoShutdown()
    {
        lock (_gate)
        {
            if (!AutoShutdown || !Engine.IsPoweredOn || !Engine.IsStarted || _shutDownSent) return;
            Span<byte> cmd = stackalloc byte[12];
            WriteHeader(cmd, TpmCc.Shutdown);
            BinaryPrimitives.WriteUInt16BigEndian(cmd[10..], (ushort)TpmSu.Clear);
            var rc = ResponseCode(ExecuteLocked(cmd, 0));
            _log.LogInformation("automatic TPM2_Shutdown(CLEAR): {Rc}", rc);
        }
    }

    /// <summary>Executes one command at <paramref name="locality"/> and returns a copy of the response.</summary>
    public byte[] Execute(ReadOnlySpan<byte> command, byte locality)
    {
        lock (_gate) return ExecuteLocked(command, locality).ToArray();
    }

    /// <summary>
    /// Executes one command at <paramref name="locality"/> into <paramref name="response"/> and returns the
    /// response length: the socket transports' path, which allocates nothing. A buffer at least as large as
    /// the instance's response buffer is written by the engine directly; a smaller one receives a copy under
    /// the lock (the engine always sees its full response size, so the answer never depends on the caller's buffer).
    /// </summary>
    /// <exception cref="ArgumentException">The response does not fit in <paramref name="response"/>.</exception>
    public int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response)
    {
        lock (_gate)
        {
            if (response.Length >= _response.Length) return ExecuteLocked(command, locality, response).Length;
            var rsp = ExecuteLocked(command, locality);
            if (rsp.Length > response.Length)
                throw new ArgumentException($"a {rsp.Length}-byte response does not fit in {response.Length} bytes", nameof(response));
            rsp.CopyTo(response);
            return rsp.Length;
        }
    }

    public int MaxCommandSize => Engine.Options.MaxCommandSize;

    /// <summary>The size a response buffer needs for <see cref="Execute(ReadOnlySpan{byte}, byte, Span{byte})"/> to write into it directly.</summary>
    public int MaxResponseSize => _response.Length;

    ReadOnlySpan<byte> ExecuteLocked(ReadOnlySpan<byte> command, byte locality) => ExecuteLocked(command, locality, _response);

    ReadOnlySpan<byte> ExecuteLocked(ReadOnlySpan<byte> command, byte locality, Span<byte> output)
    {
        long start = Stopwatch.GetTimestamp();
        int n = Engine.Execute(command, output, new CommandContext(locality));
        long ticks = Stopwatch.GetTimestamp() - start;
        if (_cancelPulse)
        {
            // swtpm's CANCEL_TPM_CMD applies to the command in flight only (MS CANCEL_ON/OFF is a level).
            _cancelPulse = false;
            Engine.Platform.CancelRequested = false;
        }
        var rsp = output[..n];
        uint code = command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
        var rc = ResponseCode(rsp);
        if (!rc.IsError && Engine.IsPoweredOn)
        {
            if (code == (uint)TpmCc.Shutdown) _shutDownSent = true;
            else if (code == (uint)TpmCc.Startup) _shutDownSent = false;
        }
        if ((uint)command.Length > _largestCommandSize) { _largestCommandSize = (uint)command.Length; _largestCommand = code; }
        if ((uint)n > _largestResponseSize) { _largestResponseSize = (uint)n; _largestResponse = rc.Code; }
        if (Trace && _log.IsEnabled(LogLevel.Information))
            _log.LogInformation("{Trace}", Describe(command, locality, rc, ticks * 1_000_000 / Stopwatch.Frequency));
        return rsp;
    }

    /// <summary>swtpm CMD_CANCEL_TPM_CMD: cancel the command being executed (or the next one).</summary>
    public void CancelPulse()
    {
        Engine.Platform.CancelRequested = true;
        _cancelPulse = true;
    }

    /// <summary>MS simulator NV_ON/NV_OFF: whether the platform's NV is available.</summary>
    public bool NvAvailable { get; set; } = true;

    public void SetNvAvailable(bool available) => NvAvailable = available;

    public void SetCancel(bool asserted) => Engine.Platform.CancelRequested = asserted;

    public void SetPhysicalPresence(bool asserted) => Engine.Platform.PhysicalPresence = asserted;

    public bool TpmEstablished => Engine.TpmEstablished;

    public bool ResetTpmEstablished(byte locality)
    {
        lock (_gate) return Engine.ResetTpmEstablished(locality);
    }

    public bool HashStart()
    {
        lock (_gate) return Engine.HashStart();
    }

    public bool HashData(ReadOnlySpan<byte> data)
    {
        lock (_gate) return Engine.HashData(data);
    }

    public bool HashEnd()
    {
        lock (_gate) return Engine.HashEnd();
    }

    public void StoreVolatile()
    {
        lock (_gate) Engine.StoreVolatile();
    }

    public byte[]? GetStateBlob(StateBlobKind kind)
    {
        // The volatile blob of a running TPM is its RAM now; the others are what the store holds.
        lock (_gate) return kind == StateBlobKind.Volatile && Engine.IsPoweredOn ? Engine.SerializeVolatile() : Store.Load(kind);
    }

    public void SetStateBlob(StateBlobKind kind, ReadOnlySpan<byte> payload)
    {
        lock (_gate) Store.Save(kind, payload);
    }

    public uint? FixedProperty(TpmPt property) => CapabilitySupport.Fixed(Engine, property);

    /// <summary>The MS simulator's command/response size statistics; reading them resets them.</summary>
    public (uint CommandSize, uint Command, uint ResponseSize, uint Response) TakeSizeStatistics()
    {
        lock (_gate)
        {
            var r = (_largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse);
            _largestCommandSize = _largestCommand = _largestResponseSize = _largestResponse = 0;
            return r;
        }
    }

    /// <summary>swtpm CMD_SET_BUFFERSIZE: 0 queries; other values are clamped to [min, max].</summary>
    public int SetBufferSize(int requested)
    {
        lock (_gate)
        {
            if (requested != 0) BufferSize = Math.Clamp(requested, MinBufferSize, MaxBufferSize);
            return BufferSize;
        }
    }

    /// <summary>One trace line: command name, handles, locality, response code name, microseconds.</summary>
    public static string Describe(ReadOnlySpan<byte> command, byte locality, TpmRc rc, long microseconds)
    {
        var sb = new StringBuilder();
        if (command.Length < 10)
        {
            sb.Append("(short frame, ").Append(command.Length).Append(" bytes)");
        }
        else
        {
            uint code = BinaryPrimitives.ReadUInt32BigEndian(command[6..]);
            var d = CommandTable.Lookup(code);
            sb.Append(d is not null ? "TPM2_" + d.Code : Enum.IsDefined((TpmCc)code) ? "TPM2_" + (TpmCc)code : $"0x{code:x8}");
            int handles = d?.Handles.Length ?? 0;
            if (handles > 0)
            {
                sb.Append(" handles=[");
                for (int i = 0; i < handles && 10 + 4 * i + 4 <= command.Length; i++)
                {
                    if (i > 0) sb.Append(',');
                    sb.Append("0x").Append(BinaryPrimitives.ReadUInt32BigEndian(command[(10 + 4 * i)..]).ToString("x8"));
                }
                sb.Append(']');
            }
        }
        sb.Append(" loc=").Append(locality).Append(" -> ").Append(rc.ToString()).Append(' ').Append(microseconds).Append(" us");
        return sb.ToString();
    }

    static TpmRc ResponseCode(ReadOnlySpan<byte> rsp) =>
        rsp.Length >= 10 ? new TpmRc(BinaryPrimitives.ReadUInt32BigEndian(rsp[6..])) : TpmRc.Failure;

    static void WriteHeader(Span<byte> cmd, TpmCc code)
    {
        BinaryPrimitives.WriteUInt16BigEndian(cmd, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(cmd[2..], (uint)cmd.Length);
        BinaryPrimitives.WriteUInt32BigEndian(cmd[6..], (uint)code);
    }

    public void Dispose()
    {
        _stop.Dispose();
        (Store as IDisposable)?.Dispose();
    }
}
