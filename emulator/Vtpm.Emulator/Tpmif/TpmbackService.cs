using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Vtpm.Frontend;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Emulator.Tpmif;

/// <summary>
/// <c>vtpm … --tpmback store=DIR,name=NAME[,uuid=UUID]</c>: the instance served to a tpmfront over a tpmif ring,
/// beside (or instead of) the socket transports. Ring requests go through the same <see cref="TpmHost"/>
/// (serialized with every other transport); the in-band platform commands of <see cref="RingPlatform"/> map to
/// the host's power, reset, physical-presence, NV and hash lines the way the socket control channels do.
/// </summary>
public sealed class TpmbackService : ITpmifDevice, IDisposable
{
    readonly TpmHost _host;
    readonly ILogger _log;
    readonly TpmifBackend _backend;
    readonly string _description;

    public TpmifBackend Backend => _backend;

    public TpmbackService(TpmHost host, string storeDirectory, string name, string? uuid, int? spinMicroseconds, ILogger log)
    {
        _host = host;
        _log = log;
        _backend = new TpmifBackend(new RendezvousStore(storeDirectory, name), this, log, uuid, spinMicroseconds);
        _description = $"device {name} in {storeDirectory}";
    }

    public void Start()
    {
        _backend.Start();
        _log.LogInformation("tpmback: serving {Device} (vTPM {Uuid})", _description, _backend.Uuid);
    }

    public int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response)
    {
        // Ordinary commands: straight into the ring's response buffer (the hot path allocates nothing).
        if (!RingPlatform.IsPlatformCommand(command)) return _host.Execute(command, locality, response);
        byte[] rsp;
        if (!RingPlatform.TryParse(command, out var signal, out uint arg, out var data)) rsp = RingPlatform.Error(TpmRc.CommandSize);
        else
        {
            try
            {
                rsp = Platform(signal, arg, data);
            }
            catch (Exception e) when (e is StateCorruptException or IOException or UnauthorizedAccessException)
            {
                _log.LogError("tpmback: platform signal {Signal} failed: {Error}", signal, e.Message);
                rsp = RingPlatform.Response(TpmRc.Failure);
            }
        }
        rsp.CopyTo(response);
        return rsp.Length;
    }

    /// <summary>Largest state blob the ring may set (as SwtpmServer's CMD_SET_STATEBLOB) or hand out in one chunk.</summary>
    public const int MaxStateBlob = 1 << 20;
    const int MaxChunk = 64 * 1024;

    // GetStateBlob's snapshot (taken at offset 0) and SetStateBlob's blob being assembled. One frontend at a
    // time, and platform signals run one at a time on the ring thread.
    StateBlobKind _outKind;
    byte[]? _outBlob;
    StateBlobKind _inKind;
    byte[]? _inBlob;
    int _inReceived;

    /// <summary>
    /// One platform signal. Every field comes from the frontend, which may be hostile: arguments, lengths and
    /// offsets are checked before use, and a bad one gets an error response.
    /// </summary>
    byte[] Platform(PlatformSignal signal, uint arg, ReadOnlySpan<byte> data)
    {
        var ok = RingPlatform.Response(TpmRc.Success);
        // Only HashData and the state-blob signals carry data.
        int expected = signal switch
        {
            PlatformSignal.HashData => -1,
            PlatformSignal.GetStateBlob => 8,
            PlatformSignal.SetStateBlob => -1,
            _ => 0,
        };
        if (expected >= 0 && data.Length != expected) return RingPlatform.Response(TpmRc.Size);
        bool IsFlag() => arg <= 1;
        switch (signal)
        {
            case PlatformSignal.PowerOn:
                // ms-tpm-20-ref: power-on of a powered TPM is ignored.
                if (!_host.IsPoweredOn) _host.Init(autoShutdown: false);
                return ok;
            case PlatformSignal.PowerOff:
                _host.PowerOff(autoShutdown: false);
                return ok;
            case PlatformSignal.Init:
                if (arg > 7) return RingPlatform.Response(TpmRc.Value);
                _host.Init(deleteVolatile: (arg & 1) != 0, autoShutdown: (arg & 2) != 0, sendStartup: (arg & 4) != 0);
                return ok;
            case PlatformSignal.Stop:
                _host.PowerOff(autoShutdown: true);
                return ok;
            case PlatformSignal.PhysicalPresence:
                if (!IsFlag()) return RingPlatform.Response(TpmRc.Value);
                _host.SetPhysicalPresence(arg != 0);
                return ok;
            case PlatformSignal.NvAvailable:
                if (!IsFlag()) return RingPlatform.Response(TpmRc.Value);
                _host.SetNvAvailable(arg != 0);
                return ok;
            case PlatformSignal.CancelLevel:
                if (!IsFlag()) return RingPlatform.Response(TpmRc.Value);
                _host.SetCancel(arg != 0);
                return ok;
            case PlatformSignal.Status:
                return RingPlatform.Response(TpmRc.Success, _host.IsPoweredOn ? 1u : 0u);
            case PlatformSignal.GetEstablished:
                if (!_host.IsPoweredOn) return RingPlatform.Response(TpmRc.Initialize);
                return RingPlatform.Response(TpmRc.Success, _host.TpmEstablished ? 1u : 0u);
            case PlatformSignal.ResetEstablished:
                if (!_host.IsPoweredOn) return RingPlatform.Response(TpmRc.Initialize);
                if (arg > 4) return RingPlatform.Response(TpmRc.Locality);
                return RingPlatform.Response(_host.ResetTpmEstablished((byte)arg) ? TpmRc.Success : TpmRc.Locality);
            case PlatformSignal.HashStart:
                return RingPlatform.Response(_host.IsPoweredOn && _host.HashStart() ? TpmRc.Success : TpmRc.Failure);
            case PlatformSignal.HashData:
                return RingPlatform.Response(_host.IsPoweredOn && _host.HashData(data) ? TpmRc.Success : TpmRc.Failure);
            case PlatformSignal.HashEnd:
                return RingPlatform.Response(_host.IsPoweredOn && _host.HashEnd() ? TpmRc.Success : TpmRc.Failure);
            case PlatformSignal.StoreVolatile:
                if (!_host.IsPoweredOn) return RingPlatform.Response(TpmRc.Initialize);
                _host.StoreVolatile();
                return ok;
            case PlatformSignal.GetStateBlob:
                return GetStateBlob(arg, BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
            case PlatformSignal.SetStateBlob:
                return SetStateBlob(arg, data);
            case PlatformSignal.GetConfig:
                return RingPlatform.Response(TpmRc.Success, _host.HasFileKey ? 1u : 0u);
            case PlatformSignal.FixedProperty:
                return _host.FixedProperty((TpmPt)arg) is uint value ? RingPlatform.Response(TpmRc.Success, value) : RingPlatform.Response(TpmRc.Value);
            default:
                return RingPlatform.Response(TpmRc.CommandCode);
        }
    }

    static bool IsBlobKind(uint kind) => kind is >= (uint)StateBlobKind.Permanent and <= (uint)StateBlobKind.SaveState;

    byte[] GetStateBlob(uint kind, uint offset, uint maxChunk)
    {
        if (!IsBlobKind(kind) || maxChunk == 0) return RingPlatform.Response(TpmRc.Value);
        var k = (StateBlobKind)kind;
        if (offset == 0)
        {
            _outBlob = null;
            var payload = _host.GetStateBlob(k);
            if (payload is null) return RingPlatform.Response(RingPlatform.NoBlob);
            if (payload.Length > MaxStateBlob) return RingPlatform.Response(TpmRc.Size);
            (_outKind, _outBlob) = (k, payload);
            _log.LogInformation("tpmback: state blob {Kind} read ({Length} bytes)", k, payload.Length);
        }
        else if (_outBlob is null || _outKind != k || offset >= (uint)_outBlob.Length)
        {
            // Later chunks only of the snapshot being read, and only inside it.
            return RingPlatform.Response(TpmRc.Value);
        }
        var blob = _outBlob;
        int n = (int)Math.Min(Math.Min(maxChunk, MaxChunk), (uint)blob.Length - offset);
        var response = RingPlatform.Response(TpmRc.Success, (uint)blob.Length, blob.AsSpan((int)offset, n));
        if (offset + (uint)n == (uint)blob.Length) _outBlob = null; // all handed out: drop the snapshot
        return response;
    }

    byte[] SetStateBlob(uint kind, ReadOnlySpan<byte> data)
    {
        if (data.Length < 8) return RingPlatform.Response(TpmRc.Size);
        uint total = BinaryPrimitives.ReadUInt32BigEndian(data);
        uint offset = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        var chunk = data[8..];
        if (offset == 0) _inBlob = null; // a new blob starts; an unfinished one is abandoned
        if (!IsBlobKind(kind)) return RingPlatform.Response(TpmRc.Value);
        if (total is 0 or > MaxStateBlob || (ulong)offset + (ulong)chunk.Length > total) return Abandon(TpmRc.Size);
        if (offset == 0)
        {
            (_inKind, _inBlob, _inReceived) = ((StateBlobKind)kind, new byte[total], 0);
        }
        else if (_inBlob is null || _inKind != (StateBlobKind)kind || _inBlob.Length != (int)total || offset != (uint)_inReceived)
        {
            // Chunks come in order, all of the same blob.
            return Abandon(TpmRc.Sequence);
        }
        chunk.CopyTo(_inBlob.AsSpan((int)offset));
        _inReceived += chunk.Length;
        if (_inReceived < _inBlob.Length) return RingPlatform.Response(TpmRc.Success);
        var blob = _inBlob;
        _inBlob = null;
        // As swtpm: the state of a running TPM cannot be replaced under it.
        if (_host.IsPoweredOn) return RingPlatform.Response(TpmRc.Initialize);
        _host.SetStateBlob(_inKind, blob);
        _log.LogInformation("tpmback: state blob {Kind} set ({Length} bytes)", _inKind, blob.Length);
        return RingPlatform.Response(TpmRc.Success);
    }

    byte[] Abandon(TpmRc rc)
    {
        _inBlob = null;
        return RingPlatform.Response(rc);
    }

    public void Cancel() => _host.CancelPulse();

    public void Dispose() => _backend.Dispose();
}
