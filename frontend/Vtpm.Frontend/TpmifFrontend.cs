using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Wire;

namespace Vtpm.Frontend;

/// <summary>
/// tpmfront: the client half of a tpmif device. A link thread runs the Xenbus handshake (Initialising →
/// create a sealed memfd ring and publish its descriptor → Initialised → backend Connected with ready = our
/// ring-ref → Connected), closes its descriptor once both sides have the ring mapped (the memory then lives only
/// in the two mappings, so nothing is left behind whoever dies later), watches the backend and reconnects with a
/// fresh ring when a backend comes back. <see cref="Transact(ReadOnlySpan{byte}, Span{byte}, byte)"/> submits one
/// request at a time; it never hangs on a dead backend and never throws for link problems: the caller gets a
/// TPM error response (TPM_RC_FAILURE: no backend / backend lost; TPM_RC_CANCELED: the backend answered IDLE).
/// </summary>
public sealed class TpmifFrontend : IDisposable
{
    readonly RendezvousStore _store;
    readonly ILogger _log;
    readonly int _extraPages;
    readonly object _tx = new();
    readonly object _teardown = new();
    readonly CancellationTokenSource _stop = new();
    readonly ManualResetEventSlim _connectedEvent = new(false);
    readonly byte[] _response;
    Thread? _thread;
    SharedRing? _ring;
    AdaptiveSpin? _spin;
    volatile bool _connected;
    volatile bool _inFlight;
    volatile SharedRing? _currentRing;
    int _generation;
    int _connections;

    /// <summary>Extra pages granted with every request (tpmif nr_extra_pages); 1 lets 4096-byte messages through.</summary>
    public int ExtraPages => _extraPages;

    /// <summary>Largest command (and response) this ring carries.</summary>
    public int Capacity => SharedRing.Capacity(_extraPages);

    public bool IsConnected => _connected;

    /// <summary>Connections made so far (1 after the first, 2 after a reconnect…).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The backend's vTPM UUID (Xenstore key uuid) once connected.</summary>
    public string? BackendUuid { get; private set; }

    /// <summary>
    /// Most microseconds to poll the state for the answer before sleeping on the doorbell (0 = always sleep).
    /// Most commands are answered within that time, so neither side enters the kernel; a long command (key
    /// generation) costs this much CPU once, then sleeps. The budget adapts (<see cref="AdaptiveSpin"/>): on a
    /// machine where the backend cannot run while we spin, it drops to zero. An idle ring never spins.
    /// </summary>
    public int SpinMicroseconds { get; init; } = DefaultSpinMicroseconds;

    public const int DefaultSpinMicroseconds = 50;

    public TpmifFrontend(RendezvousStore store, ILogger? log = null, int extraPages = 1)
    {
        if (extraPages is < 0 or > SharedRing.MaxExtraPages) throw new ArgumentOutOfRangeException(nameof(extraPages));
        _store = store;
        _log = log ?? NullLogger.Instance;
        _extraPages = extraPages;
        _response = new byte[SharedRing.Capacity(extraPages)];
    }

    /// <summary>Claims the frontend side of the device and starts the link thread.</summary>
    /// <exception cref="InvalidOperationException">Another live process is this device's frontend.</exception>
    public void Start()
    {
        if (_store.IsAlive(Side.Frontend) && _store.OwnerPid(Side.Frontend) != Environment.ProcessId)
            throw new InvalidOperationException($"device {_store.Name} in {_store.Root} already has a running frontend (pid {_store.OwnerPid(Side.Frontend)})");
        _store.Create(Side.Frontend);
        _store.Delete(Side.Frontend, "ring-ref");
        _store.WriteOwner(Side.Frontend);
        _store.WriteState(Side.Frontend, XenbusState.Initialising);
        _thread = new Thread(Run) { IsBackground = true, Name = "tpmfront " + _store.Name };
        _thread.Start();
    }

    /// <summary>Waits until the ring is connected; false on timeout.</summary>
    public bool WaitConnected(TimeSpan timeout) => _connectedEvent.Wait(timeout);

    void Run()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            _store.WriteState(Side.Frontend, XenbusState.Initialising);
            // Wait for a live backend in InitWait that speaks protocol v2.
            while (!(_store.IsAlive(Side.Backend) && _store.ReadState(Side.Backend) == XenbusState.InitWait
                     && _store.Read(Side.Backend, "feature-protocol-v2") == "1"))
            {
                if (ct.WaitHandle.WaitOne(50)) return;
            }
            // As the backend does: while someone else could write the backend's keys, wait until that is fixed.
            if (!_store.CheckTrusted(_log, "tpmfront"))
            {
                if (ct.WaitHandle.WaitOne(1000)) return;
                continue;
            }
            int generation = ++_generation;
            SharedRing ring;
            try
            {
                ring = SharedRing.Create(_extraPages + 1, $"{_store.Name}-{generation}");
            }
            catch (IOException e)
            {
                _log.LogError("tpmfront {Name}: cannot create the ring: {Error}", _store.Name, e.Message);
                if (ct.WaitHandle.WaitOne(1000)) return;
                continue;
            }
            // ring-ref: our descriptor of the sealed memfd; the backend opens /proc/OUR_PID/fd/N (our pid key).
            string path = ring.Descriptor.ToString(CultureInfo.InvariantCulture);
            _store.Write(Side.Frontend, "ring-ref", path);
            _store.Write(Side.Frontend, "ring-pages", (_extraPages + 1).ToString(CultureInfo.InvariantCulture));
            _store.Write(Side.Frontend, "event-channel", "futex");
            _store.Write(Side.Frontend, "feature-protocol-v2", "1");
            _store.WriteState(Side.Frontend, XenbusState.Initialised);

            // Wait for the backend to map our ring (ready = our path) and go Connected.
            bool ok = false;
            while (!ct.WaitHandle.WaitOne(20))
            {
                if (!_store.IsAlive(Side.Backend)) break;
                if (_store.ReadState(Side.Backend) == XenbusState.Connected && _store.Read(Side.Backend, "ready") == path)
                {
                    ok = true;
                    break;
                }
            }
            ring.CloseDescriptor(); // both sides have it mapped now (or the backend is gone): nothing else refers to it
            if (!ok)
            {
                _store.Delete(Side.Frontend, "ring-ref");
                ring.Dispose();
                continue;
            }
            BackendUuid = _store.Read(Side.Backend, "uuid");
            lock (_tx)
            lock (_teardown)
            {
                _ring = ring;
                _connected = true;
            }
            _store.WriteState(Side.Frontend, XenbusState.Connected);
            Interlocked.Increment(ref _connections);
            _connectedEvent.Set();
            _log.LogInformation("tpmfront {Name}: connected to backend pid {Pid} (vTPM {Uuid})", _store.Name, _store.OwnerPid(Side.Backend), BackendUuid);

            // Watch the backend without polling: its death nudges the doorbell (pidfd), and a backend that closes
            // kicks it; otherwise the keys are re-read every LivenessIntervalMs. Transact marks the link broken too.
            using (var peer = _store.OwnerPid(Side.Backend) is int bp ? new PeerWatch(bp, () => { _connected = false; ring.NudgeBackKickWaiters(); ring.NudgeControlWaiters(); }) : null)
            {
                _currentRing = ring;
                while (!ct.IsCancellationRequested && _connected)
                {
                    // The counter first, then the keys, then the wait: a backend that closed at any point
                    // since (even before this loop started) has either changed the keys we read or the counter.
                    uint seen = ring.ControlKicks;
                    if (!_store.IsAlive(Side.Backend) || _store.ReadState(Side.Backend) != XenbusState.Connected || _store.Read(Side.Backend, "ready") != path)
                    {
                        _connected = false;
                        ring.NudgeBackKickWaiters(); // a Transact waiting on the ring gives up now
                        break;
                    }
                    ring.WaitControlKick(seen, TpmifBackend.LivenessIntervalMs);
                }
                _currentRing = null;
            }
            _connectedEvent.Reset();
            _connected = false;
            if (ct.IsCancellationRequested) return; // Dispose tears down
            _log.LogWarning("tpmfront {Name}: backend lost; reconnecting when one comes back", _store.Name);
            _store.WriteState(Side.Frontend, XenbusState.Closing);
            lock (_tx)
            lock (_teardown)
            {
                _ring = null;
                ring.Dispose();
            }
            _store.Delete(Side.Frontend, "ring-ref");
        }
    }

    /// <summary>
    /// Sends one command at <paramref name="locality"/> and returns the response, or an error response when
    /// the ring cannot deliver it. Commands are serialized (tpmif carries one request at a time). Allocates the
    /// returned array; the span overload does not.
    /// </summary>
    public byte[] Transact(ReadOnlySpan<byte> command, byte locality = 0)
    {
        lock (_tx)
        {
            int n = Transact(command, _response, locality);
            return _response.AsSpan(0, n).ToArray();
        }
    }

    /// <summary>
    /// Sends one command at <paramref name="locality"/> and writes the response (or an error response when the
    /// ring cannot deliver it) into <paramref name="response"/>; returns its length. A response longer than
    /// <paramref name="response"/> is replaced by TPM_RC_SIZE: pass <see cref="Capacity"/> bytes to never lose one.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="response"/> cannot hold a 10-byte error response.</exception>
    public int Transact(ReadOnlySpan<byte> command, Span<byte> response, byte locality = 0)
    {
        if (response.Length < TpmError.Size) throw new ArgumentException("the response buffer must hold at least 10 bytes", nameof(response));
        lock (_tx)
        {
            var ring = _ring;
            if (!_connected || ring is null) return TpmError.Write(response, TpmRc.Failure);
            if (command.Length > Capacity) return TpmError.Write(response, TpmRc.CommandSize);
            Span<uint> refs = stackalloc uint[_extraPages];
            for (int i = 0; i < refs.Length; i++)
            {
                refs[i] = (uint)(i + 1);
                ring.WritePageRef(i, refs[i]);
            }
            ring.CopyToPages(refs, command);
            ring.WriteRequestHeader((uint)command.Length, locality, (byte)_extraPages);
            _inFlight = true;
            ring.FrontendCpu = Thread.GetCurrentProcessorId();
            ring.SetState(TpmifState.Submit);
            ring.KickBackend();
            try
            {
                return Wait(ring, refs, response);
            }
            finally
            {
                _inFlight = false;
            }
        }
    }

    int Wait(SharedRing ring, ReadOnlySpan<uint> refs, Span<byte> response)
    {
        long lastCheck = Stopwatch.GetTimestamp();
        var adaptive = _spin ??= new AdaptiveSpin(SpinMicroseconds);
        var spin = adaptive.Begin();
        bool spinning = true;
        while (true)
        {
            uint seen = ring.BackKicks;
            var header = ring.ReadHeader();
            switch (header.State)
            {
                case TpmifState.Finish:
                {
                    if (header.Length > (uint)Capacity || header.Length < TpmError.Size)
                    {
                        _log.LogWarning("tpmfront {Name}: backend answered {Length} bytes (capacity {Capacity}); dropping the link", _store.Name, header.Length, Capacity);
                        _connected = false;
                        return TpmError.Write(response, TpmRc.Failure);
                    }
                    if (header.Length > (uint)response.Length)
                    {
                        _log.LogWarning("tpmfront {Name}: {Length}-byte response does not fit the caller's {Size}-byte buffer", _store.Name, header.Length, response.Length);
                        return TpmError.Write(response, TpmRc.Size);
                    }
                    ring.CopyFromPages(refs, response[..(int)header.Length]);
                    adaptive.End(spinning);
                    return (int)header.Length;
                }
                case TpmifState.Idle:
                    // Linux xen-tpmfront: IDLE after SUBMIT means the request was cancelled.
                    return TpmError.Write(response, TpmRc.Canceled);
            }
            if (spinning && spin.Pause()) continue;
            spinning = false;
            ring.WaitBackKick(seen, TpmifBackend.LivenessIntervalMs / 4);
            if (!_connected || Stopwatch.GetElapsedTime(lastCheck).TotalMilliseconds >= TpmifBackend.LivenessIntervalMs / 4)
            {
                lastCheck = Stopwatch.GetTimestamp();
                if (!_connected || !_store.IsAlive(Side.Backend) || _store.ReadState(Side.Backend) != XenbusState.Connected)
                {
                    _connected = false;
                    _log.LogWarning("tpmfront {Name}: backend gone during a command; answering TPM_RC_FAILURE", _store.Name);
                    return TpmError.Write(response, TpmRc.Failure);
                }
            }
        }
    }

    /// <summary>Asks the backend to cancel the command in flight (SUBMIT → CANCEL, then a kick); no-op when idle.</summary>
    public void Cancel()
    {
        // Not under the transaction lock (it is held for the whole command), but under the teardown lock, so
        // the ring cannot be unmapped while we write to it.
        lock (_teardown)
        {
            var ring = _ring;
            if (ring is null || !_inFlight) return;
            if (ring.TryCancel())
            {
                ring.KickCancel();
                ring.KickBackend();
            }
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        try
        {
            _currentRing?.NudgeControlWaiters();
        }
        catch (ObjectDisposedException)
        {
        }
        _thread?.Join();
        lock (_tx)
        lock (_teardown)
        {
            _connected = false;
            if (_ring is { } ring)
            {
                _store.WriteState(Side.Frontend, XenbusState.Closing);
                ring.KickControl(); // like a Xenstore watch firing: the backend re-reads our state now
                ring.KickBackend();
                _ring = null;
                ring.Dispose();
            }
        }
        try
        {
            _store.WriteState(Side.Frontend, XenbusState.Closed);
            Directory.Delete(_store.SideDirectory(Side.Frontend), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        _connectedEvent.Dispose();
        _stop.Dispose();
    }
}
