using Microsoft.Extensions.Logging;
using Vtpm.Frontend;
using Vtpm.Tpm2.State;
using Vtpm.Wire;

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
        byte[] rsp;
        if (!RingPlatform.IsPlatformCommand(command)) rsp = _host.Execute(command, locality);
        else if (!RingPlatform.TryParse(command, out var signal, out uint arg, out var data)) rsp = RingPlatform.Error(TpmRc.CommandSize);
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

    byte[] Platform(PlatformSignal signal, uint arg, ReadOnlySpan<byte> data)
    {
        var ok = RingPlatform.Response(TpmRc.Success);
        bool on = _host.IsPoweredOn;
        switch (signal)
        {
            case PlatformSignal.PowerOn:
                // ms-tpm-20-ref: power-on of a powered TPM is ignored.
                if (!on) _host.Init(autoShutdown: false);
                return ok;
            case PlatformSignal.PowerOff:
                _host.PowerOff(autoShutdown: false);
                return ok;
            case PlatformSignal.Init:
                _host.Init(deleteVolatile: (arg & 1) != 0, autoShutdown: (arg & 2) != 0, sendStartup: (arg & 2) != 0);
                return ok;
            case PlatformSignal.Stop:
                _host.PowerOff(autoShutdown: true);
                return ok;
            case PlatformSignal.PhysicalPresence:
                _host.Engine.Platform.PhysicalPresence = arg != 0;
                return ok;
            case PlatformSignal.NvAvailable:
                _host.NvAvailable = arg != 0;
                return ok;
            case PlatformSignal.Status:
                return RingPlatform.Response(TpmRc.Success, on ? 1u : 0u);
            case PlatformSignal.GetEstablished:
                if (!on) return RingPlatform.Response(TpmRc.Initialize);
                return RingPlatform.Response(TpmRc.Success, _host.Engine.TpmEstablished ? 1u : 0u);
            case PlatformSignal.ResetEstablished:
                if (!on) return RingPlatform.Response(TpmRc.Initialize);
                return RingPlatform.Response(_host.Engine.ResetTpmEstablished((byte)arg) ? TpmRc.Success : TpmRc.Locality);
            case PlatformSignal.HashStart:
                lock (_host.Gate) return RingPlatform.Response(on && _host.Engine.HashStart() ? TpmRc.Success : TpmRc.Failure);
            case PlatformSignal.HashData:
                lock (_host.Gate) return RingPlatform.Response(on && _host.Engine.HashData(data) ? TpmRc.Success : TpmRc.Failure);
            case PlatformSignal.HashEnd:
                lock (_host.Gate) return RingPlatform.Response(on && _host.Engine.HashEnd() ? TpmRc.Success : TpmRc.Failure);
            default:
                return RingPlatform.Response(TpmRc.CommandCode);
        }
    }

    public void Cancel() => _host.CancelPulse();

    public void Dispose() => _backend.Dispose();
}
