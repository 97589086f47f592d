using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator;
using Vtpm.Frontend;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpmfront;

/// <summary>
/// The ring-connected vTPM as vtpm's own servers (<see cref="Vtpm.Emulator.Transports.SwtpmServer"/>,
/// <see cref="Vtpm.Emulator.Transports.MssimServer"/>) see a TPM: commands go through tpmif with their locality
/// in the page, cancel is tpmif's CANCEL, and the platform lines and control-channel state travel as the
/// in-band <see cref="RingPlatform"/> signals that vtpm's tpmback maps onto its TpmHost. What is the
/// frontend's own (stop request, data-channel locality, buffer size, the MS size statistics) stays here.
/// </summary>
/// <remarks>
/// A platform signal that does not get through (no backend, or the backend went away) throws
/// <see cref="TpmDeviceException"/>; commands answer TPM_RC_FAILURE instead, as <see cref="TpmifFrontend"/> does.
/// </remarks>
public sealed class RingTpm(TpmifFrontend frontend, ILogger log) : ITpmDevice
{
    /// <summary>Largest state blob moved through the ring (SwtpmServer's CMD_SET_STATEBLOB bound).</summary>
    public const int MaxStateBlob = 1 << 20;

    readonly CancellationTokenSource _stop = new();
    readonly object _stats = new();
    uint _largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse;
    volatile byte _locality;
    int _bufferSize = TpmHost.MaxBufferSize;

    public TpmifFrontend Frontend => frontend;
    public CancellationToken Stopping => _stop.Token;
    public string? StopReason { get; private set; }

    public void RequestStop(string reason)
    {
        StopReason ??= reason;
        log.LogInformation("stopping: {Reason}", reason);
        _stop.Cancel();
    }

    public int MaxCommandSize => frontend.Capacity;
    public int MaxResponseSize => frontend.Capacity;

    public byte Locality
    {
        get => _locality;
        set => _locality = value;
    }

    public int BufferSize => Volatile.Read(ref _bufferSize);

    public int SetBufferSize(int requested)
    {
        if (requested != 0) Volatile.Write(ref _bufferSize, Math.Clamp(requested, TpmHost.MinBufferSize, TpmHost.MaxBufferSize));
        return BufferSize;
    }

    /// <summary>
    /// A client's command. The in-band platform command code is the frontend's own: a client sending it gets
    /// TPM_RC_COMMAND_CODE here and the ring never sees it.
    /// </summary>
    public int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response)
    {
        int n;
        if (RingPlatform.IsPlatformCommand(command))
        {
            n = RingPlatform.WriteError(response, TpmRc.CommandCode);
        }
        else
        {
            n = frontend.Transact(command, response, locality);
        }
        var rsp = response[..n];
        lock (_stats)
        {
            uint code = command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
            if ((uint)command.Length > _largestCommandSize) { _largestCommandSize = (uint)command.Length; _largestCommand = code; }
            if ((uint)rsp.Length > _largestResponseSize) { _largestResponseSize = (uint)rsp.Length; _largestResponse = RingPlatform.ResponseCode(rsp)?.Code ?? 0; }
        }
        return rsp.Length;
    }

    /// <summary>
    /// A platform signal through the ring: the backend's response code and the whole response. A response too
    /// short to be the backend's platform answer means the signal did not get through.
    /// </summary>
    (TpmRc Rc, byte[] Response) Call(PlatformSignal signal, uint argument = 0, ReadOnlySpan<byte> data = default)
    {
        var rsp = frontend.Transact(RingPlatform.Build(signal, argument, data));
        var rc = RingPlatform.ResponseCode(rsp) ?? TpmRc.Failure;
        if (rsp.Length < RingPlatform.ResponseHeaderSize)
            throw new TpmDeviceException($"platform signal {signal} did not reach the vTPM ({rc}): {(frontend.IsConnected ? "ring error" : "no backend connected")}");
        return (rc, rsp);
    }

    /// <summary>A platform signal that must succeed; its u32 result.</summary>
    uint Require(PlatformSignal signal, uint argument = 0, ReadOnlySpan<byte> data = default)
    {
        var (rc, rsp) = Call(signal, argument, data);
        if (rc.IsError)
        {
            log.LogWarning("platform signal {Signal} through the ring: {Rc}", signal, rc);
            throw new TpmDeviceException($"platform signal {signal}: the vTPM answered {rc}");
        }
        return RingPlatform.Result(rsp);
    }

    /// <summary>
    /// Whether the vTPM is powered on. When it cannot be asked (no backend) it is reported on, so the operation
    /// the caller wanted is attempted and fails as the ring does (TPM_RC_FAILURE, <see cref="TpmDeviceException"/>).
    /// </summary>
    public bool IsPoweredOn
    {
        get
        {
            try
            {
                return (Require(PlatformSignal.Status) & 1) != 0;
            }
            catch (TpmDeviceException)
            {
                return true;
            }
        }
    }

    public void Init(bool deleteVolatile = false, bool autoShutdown = true, bool sendStartup = true) =>
        Require(PlatformSignal.Init, (deleteVolatile ? 1u : 0) | (autoShutdown ? 2u : 0) | (sendStartup ? 4u : 0));

    public void PowerOff(bool autoShutdown) => Require(autoShutdown ? PlatformSignal.Stop : PlatformSignal.PowerOff);

    public bool TpmEstablished => Require(PlatformSignal.GetEstablished) != 0;

    public bool ResetTpmEstablished(byte locality)
    {
        var (rc, _) = Call(PlatformSignal.ResetEstablished, locality);
        if (rc == TpmRc.Locality) return false;
        if (rc.IsError) throw new TpmDeviceException($"platform signal ResetEstablished: the vTPM answered {rc}");
        return true;
    }

    public bool HashStart() => Succeeds(PlatformSignal.HashStart);

    /// <summary>_TPM_Hash_Data in pieces that fit the ring: the hash sequence sees one stream either way.</summary>
    public bool HashData(ReadOnlySpan<byte> data)
    {
        int piece = frontend.Capacity - 18;
        do
        {
            var part = data[..Math.Min(piece, data.Length)];
            if (!Succeeds(PlatformSignal.HashData, 0, part)) return false;
            data = data[part.Length..];
        }
        while (!data.IsEmpty);
        return true;
    }

    public bool HashEnd() => Succeeds(PlatformSignal.HashEnd);

    bool Succeeds(PlatformSignal signal, uint argument = 0, ReadOnlySpan<byte> data = default)
    {
        try
        {
            return Call(signal, argument, data).Rc.IsSuccess;
        }
        catch (TpmDeviceException e)
        {
            log.LogWarning("{Error}", e.Message);
            return false;
        }
    }

    /// <summary>tpmif CANCEL of the command in flight (Xen's tpmfront has no other cancel).</summary>
    public void CancelPulse() => frontend.Cancel();

    /// <summary>
    /// MS CANCEL_ON cancels the command in flight at once (tpmif CANCEL), then, once the ring is free, holds the
    /// backend's cancel line asserted until CANCEL_OFF, as the simulator's level does.
    /// </summary>
    public void SetCancel(bool asserted)
    {
        if (asserted) frontend.Cancel();
        Require(PlatformSignal.CancelLevel, asserted ? 1u : 0);
    }

    public void SetPhysicalPresence(bool asserted) => Require(PlatformSignal.PhysicalPresence, asserted ? 1u : 0);

    public void SetNvAvailable(bool available) => Require(PlatformSignal.NvAvailable, available ? 1u : 0);

    public void StoreVolatile() => Require(PlatformSignal.StoreVolatile);

    /// <summary>
    /// The whole payload, read in chunks that fit the ring. The backend snapshots the blob at offset 0 and
    /// serves the later chunks from that snapshot, so the pieces belong to one blob.
    /// </summary>
    public byte[]? GetStateBlob(StateBlobKind kind)
    {
        uint maxChunk = (uint)(frontend.Capacity - RingPlatform.ResponseHeaderSize);
        Span<byte> request = stackalloc byte[8];
        byte[]? blob = null;
        int received = 0;
        do
        {
            BinaryPrimitives.WriteUInt32BigEndian(request, (uint)received);
            BinaryPrimitives.WriteUInt32BigEndian(request[4..], maxChunk);
            var (rc, rsp) = Call(PlatformSignal.GetStateBlob, (uint)kind, request);
            if (rc == RingPlatform.NoBlob && received == 0) return null;
            if (rc.IsError) throw new TpmDeviceException($"state blob {kind}: the vTPM answered {rc}");
            uint total = RingPlatform.Result(rsp);
            var chunk = RingPlatform.Data(rsp);
            // The backend's answers are checked as well: one total, within bounds, progress on every chunk.
            if (total is 0 or > MaxStateBlob || (blob is not null && total != (uint)blob.Length) || chunk.IsEmpty || received + chunk.Length > (int)total)
                throw new TpmDeviceException($"state blob {kind}: inconsistent chunk from the vTPM (total {total}, {chunk.Length} bytes at {received})");
            blob ??= new byte[total];
            chunk.CopyTo(blob.AsSpan(received));
            received += chunk.Length;
        }
        while (received < blob.Length);
        return blob;
    }

    /// <summary>Sends the payload in order in chunks that fit the ring; the backend applies it once complete.</summary>
    public void SetStateBlob(StateBlobKind kind, ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty || payload.Length > MaxStateBlob) throw new TpmDeviceException($"state blob {kind} of {payload.Length} bytes");
        int piece = frontend.Capacity - 18 - 8;
        var request = new byte[8 + Math.Min(piece, payload.Length)];
        int sent = 0;
        while (sent < payload.Length)
        {
            int n = Math.Min(piece, payload.Length - sent);
            BinaryPrimitives.WriteUInt32BigEndian(request, (uint)payload.Length);
            BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(4), (uint)sent);
            payload.Slice(sent, n).CopyTo(request.AsSpan(8));
            Require(PlatformSignal.SetStateBlob, (uint)kind, request.AsSpan(0, 8 + n));
            sent += n;
        }
    }

    public bool HasFileKey => (Require(PlatformSignal.GetConfig) & 1) != 0;

    public uint? FixedProperty(TpmPt property)
    {
        var (rc, rsp) = Call(PlatformSignal.FixedProperty, (uint)property);
        if (rc == TpmRc.Value) return null;
        if (rc.IsError) throw new TpmDeviceException($"fixed property {property}: the vTPM answered {rc}");
        return RingPlatform.Result(rsp);
    }

    public (uint CommandSize, uint Command, uint ResponseSize, uint Response) TakeSizeStatistics()
    {
        lock (_stats)
        {
            var r = (_largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse);
            _largestCommandSize = _largestCommand = _largestResponseSize = _largestResponse = 0;
            return r;
        }
    }
}
