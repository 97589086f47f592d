using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Wire;

namespace Vtpm.Frontend;

/// <summary>What a backend serves: the TPM instance behind the ring.</summary>
public interface ITpmifDevice
{
    /// <summary>
    /// Executes one command (or a <see cref="RingPlatform"/> platform command), writes the response at the start
    /// of <paramref name="response"/> and returns its length. The backend passes a buffer of
    /// <see cref="TpmifBackend.ResponseBufferSize"/> bytes, larger than any TPM response; the ring path allocates nothing.
    /// </summary>
    int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response);

    /// <summary>The frontend asked to cancel the command being executed.</summary>
    void Cancel();
}

/// <summary>
/// tpmback: serves one device of the rendezvous store over a tpmif ring. Handshake as Mini-OS tpmback does
/// it: publish uuid, feature-protocol-v2 and InitWait; wait for the frontend's Initialised with ring-ref,
/// ring-pages and event-channel; map the ring; publish ready and Connected. Then one request at a time:
/// the header is copied once (one 64-bit load), the page references and data are copied once, and only the
/// copies are validated and used (no double fetch, XSA-155). A frontend that breaks the protocol, goes to
/// Closing/Closed or dies is disconnected: the device goes Closing → Closed → InitWait and waits for a new one.
/// </summary>
public sealed class TpmifBackend : IDisposable
{
    /// <summary>
    /// How often a waiting side re-reads its peer's keys. Peer death wakes it at once (pidfd + a doorbell
    /// nudge) and a clean close kicks the doorbell, so this is only a safety net (and the fallback where
    /// pidfd_open is missing); it is the only thing that wakes an idle ring, so it is rare.
    /// </summary>
    public const int LivenessIntervalMs = 30_000;

    /// <summary>Size of the buffer a device writes its response into (the largest data area a ring can grant).</summary>
    public static readonly int ResponseBufferSize = SharedRing.Capacity(SharedRing.MaxExtraPages);

    readonly RendezvousStore _store;
    readonly ITpmifDevice _device;
    readonly ILogger _log;
    readonly CancellationTokenSource _stop = new();
    readonly byte[] _request = new byte[SharedRing.Capacity(SharedRing.MaxExtraPages)];
    readonly byte[] _response = new byte[ResponseBufferSize];
    Thread? _thread;
    volatile bool _busy;
    volatile bool _peerGone;
    volatile SharedRing? _currentRing;
    int _connections;

    public string Uuid { get; }

    /// <summary>Frontends accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Frontends disconnected for breaking the protocol.</summary>
    public int Violations { get; private set; }

    public XenbusState State { get; private set; } = XenbusState.Initialising;

    /// <summary>
    /// Most microseconds to keep polling the state after answering before sleeping on the doorbell: a client
    /// that sends its next command within that time finds the backend awake, and neither side enters the
    /// kernel (see the doorbell comment in <see cref="SharedRing"/>). Bounded and adaptive
    /// (<see cref="AdaptiveSpin"/>), so an idle ring sleeps: idle CPU is unaffected (no command, no polling).
    /// </summary>
    public int SpinMicroseconds { get; init; } = DefaultSpinMicroseconds;

    public const int DefaultSpinMicroseconds = 50;

    public TpmifBackend(RendezvousStore store, ITpmifDevice device, ILogger? log = null, string? uuid = null, int? spinMicroseconds = null)
    {
        _store = store;
        _device = device;
        _log = log ?? NullLogger.Instance;
        SpinMicroseconds = spinMicroseconds ?? DefaultSpinMicroseconds;
        if (uuid is not null && !Guid.TryParse(uuid, out _)) throw new ArgumentException($"uuid '{uuid}' is not a UUID", nameof(uuid));
        Uuid = uuid ?? (Guid.TryParse(store.Read(Side.Backend, "uuid"), out var kept) ? kept.ToString() : Guid.NewGuid().ToString());
    }

    /// <summary>Claims the backend side of the device and starts serving on a dedicated thread.</summary>
    /// <exception cref="InvalidOperationException">Another live process serves this device.</exception>
    public void Start()
    {
        if (_store.IsAlive(Side.Backend) && _store.OwnerPid(Side.Backend) != Environment.ProcessId)
            throw new InvalidOperationException($"device {_store.Name} in {_store.Root} already has a running backend (pid {_store.OwnerPid(Side.Backend)})");
        _store.Create(Side.Backend);
        _store.Write(Side.Backend, "uuid", Uuid);
        _store.Write(Side.Backend, "feature-protocol-v2", "1");
        _store.Delete(Side.Backend, "ready"); // left by a backend that was killed while connected
        _store.WriteOwner(Side.Backend);
        SetState(XenbusState.InitWait);
        _thread = new Thread(Run) { IsBackground = true, Name = "tpmback " + _store.Name };
        _thread.Start();
    }

    void SetState(XenbusState s)
    {
        State = s;
        _store.WriteState(Side.Backend, s);
    }

    void Run()
    {
        string? rejected = null;
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            var offer = WaitForFrontend(rejected, ct);
            if (offer is null) break;
            var o = offer.Value;
            SharedRing ring;
            try
            {
                ring = SharedRing.Open(o.Identity, o.Descriptor, o.Pages);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                _log.LogWarning("tpmback {Name}: refusing ring-ref '{Ref}' of frontend {Identity}: {Error}", _store.Name, o.Ref, o.Identity, e.Message);
                rejected = o.Key;
                continue;
            }
            Interlocked.Increment(ref _connections);
            _store.Write(Side.Backend, "ready", o.Ref);
            SetState(XenbusState.Connected);
            _log.LogInformation("tpmback {Name}: connected to frontend pid {Pid} ({Pages} ring pages, sealed memfd inode {Inode})", _store.Name, o.Identity, o.Pages, ring.Inode);
            bool violated;
            _peerGone = false;
            using (var watcher = new CancelWatcher(ring, this))
            using (var peer = new PeerWatch(o.Pid, () => { _peerGone = true; ring.NudgeFrontKickWaiters(); }))
            {
                violated = Serve(ring, o.Ref, ct);
            }
            _store.WriteState(Side.Backend, XenbusState.Closing);
            ring.KickControl(); // like a Xenstore watch firing: the frontend re-reads our state now
            ring.KickFrontend(); // and a command waiting for its answer stops waiting
            ring.Dispose();
            if (violated)
            {
                Violations++;
                rejected = o.Key;
            }
            SetState(XenbusState.Closing);
            _store.Delete(Side.Backend, "ready");
            SetState(XenbusState.Closed);
            _log.LogInformation("tpmback {Name}: frontend disconnected{Why}; waiting for a new one", _store.Name, violated ? " (protocol violation)" : "");
            if (!ct.IsCancellationRequested) SetState(XenbusState.InitWait);
        }
    }

    /// <summary>A frontend's published ring: its ring-ref (a descriptor number of the frontend process), its pages.</summary>
    readonly record struct Offer(string Identity, int Pid, string Ref, int Descriptor, int Pages, string Key);

    /// <summary>
    /// Polls the frontend's keys until it offers a ring (state Initialised) other than the one refused last.
    /// A refused ring is recognised by owner, descriptor and inode (descriptor numbers are reused). Null when stopping.
    /// </summary>
    Offer? WaitForFrontend(string? rejected, CancellationToken ct)
    {
        while (!ct.WaitHandle.WaitOne(100))
        {
            if (_store.ReadState(Side.Frontend) != XenbusState.Initialised) continue;
            // Checked again before each connection: someone may have changed the permissions since Start, or the
            // frontend's directory appeared with a mode that lets others write its keys.
            if (!_store.CheckTrusted(_log, "tpmback")) continue;
            if (_store.Read(Side.Frontend, "pid") is not { } identity || !ProcessIdentity.IsRunning(identity)) continue;
            if (_store.Read(Side.Frontend, "ring-ref") is not { } reference) continue;
            if (_store.Read(Side.Frontend, "feature-protocol-v2") != "1") continue;
            if (_store.Read(Side.Frontend, "event-channel") != "futex") continue;
            if (!int.TryParse(_store.Read(Side.Frontend, "ring-pages"), NumberStyles.None, CultureInfo.InvariantCulture, out int pages)) continue;
            int pid = int.Parse(identity.Split(':')[0], NumberStyles.None, CultureInfo.InvariantCulture);
            int fd = int.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;
            string key = $"{identity}/{reference}/{SharedRing.ProbeInode(pid, fd)}";
            if (key == rejected) continue;
            return new Offer(identity, pid, reference, fd, pages, key);
        }
        return null;
    }

    /// <summary>Serves requests until the frontend leaves or misbehaves; true on a protocol violation.</summary>
    bool Serve(SharedRing ring, string reference, CancellationToken ct)
    {
        _currentRing = ring;
        // Polling needs the two sides on different CPUs; without polling there is nothing to place.
        var placement = SpinMicroseconds > 0 ? new PeerCpuAvoidance() : null;
        try
        {
            long lastCheck = Stopwatch.GetTimestamp();
            var adaptive = new AdaptiveSpin(SpinMicroseconds); // per connection: a new peer starts from the full budget
            var spin = SpinPolicy.None;
            bool spinning = false;
            // The frontend announces key changes (e.g. Closing) on the control doorbell, whatever state the page
            // is in. Both counters are read before the page and before any wait, so a kick that lands while we
            // execute a request is seen at the next turn instead of being absorbed into `seen`. The first turn
            // also catches a frontend that closed between its Initialised and now (it kicked before we looked).
            uint control = ring.ControlKicks - 1;
            bool look = false;
            while (!ct.IsCancellationRequested && !_peerGone)
            {
                uint seen = ring.FrontKicks;
                uint c = ring.ControlKicks;
                if (c != control || look)
                {
                    control = c;
                    look = false;
                    lastCheck = Stopwatch.GetTimestamp();
                    if (!FrontendStillConnected(reference)) return false;
                }
                var header = ring.ReadHeader();
                switch (header.State)
                {
                    case TpmifState.Submit:
                        if (spinning) adaptive.End(whileSpinning: true);
                        else if (placement?.AvoidPeer(ring.FrontendCpu) == true)
                            _log.LogDebug("tpmback {Name}: serving from another CPU than the frontend's ({Cpu})", _store.Name, placement.AvoidedCpu);
                        if (!Process(ring, header)) return true;
                        spin = adaptive.Begin();
                        spinning = true;
                        // A frontend that never stops sending still gets its keys re-read now and then.
                        look = Stopwatch.GetElapsedTime(lastCheck).TotalMilliseconds >= LivenessIntervalMs;
                        break;
                    case TpmifState.Cancel:
                        // Mini-OS tpmback: a cancel while no request is held is acknowledged with IDLE.
                        ring.SetState(TpmifState.Idle);
                        ring.KickFrontend();
                        break;
                    default:
                        if (spinning && spin.Pause()) continue;
                        if (spinning) adaptive.End(whileSpinning: false);
                        spinning = false;
                        ring.WaitFrontKick(seen, LivenessIntervalMs);
                        // Woken with no request to serve: a timeout, a nudge or a kick announcing a key change
                        // (the frontend kicks after writing Closing), so look at the frontend's keys.
                        look = ring.State is not (TpmifState.Submit or TpmifState.Cancel)
                            || Stopwatch.GetElapsedTime(lastCheck).TotalMilliseconds >= LivenessIntervalMs;
                        break;
                }
            }
            return false;
        }
        finally
        {
            _currentRing = null;
        }
    }

    bool FrontendStillConnected(string reference)
    {
        if (_peerGone || !_store.IsAlive(Side.Frontend)) return false;
        var s = _store.ReadState(Side.Frontend);
        if (s is not (XenbusState.Initialised or XenbusState.Connected)) return false;
        return _store.Read(Side.Frontend, "ring-ref") is not { } r || r == reference;
    }

    /// <summary>One request from a header copy; false if the frontend broke the protocol.</summary>
    bool Process(SharedRing ring, PageHeader header)
    {
        int extra = header.ExtraPages;
        if (header.Pad != 0 || extra > ring.RingPages - 1)
        {
            _log.LogWarning("tpmback {Name}: bad request header ({Header}); closing the connection", _store.Name, header);
            return false;
        }
        Span<uint> refs = stackalloc uint[extra];
        ring.ReadPageRefs(refs);
        foreach (uint r in refs)
        {
            if (r == 0 || r >= (uint)ring.RingPages)
            {
                _log.LogWarning("tpmback {Name}: page reference {Ref} outside 1..{Max}; closing the connection", _store.Name, r, ring.RingPages - 1);
                return false;
            }
        }
        int capacity = SharedRing.Capacity(extra);
        if (header.Length > (uint)capacity)
        {
            _log.LogWarning("tpmback {Name}: request length {Length} exceeds the {Capacity} bytes granted; closing the connection", _store.Name, header.Length, capacity);
            return false;
        }
        var command = _request.AsSpan(0, (int)header.Length);
        ring.CopyFromPages(refs, command);
        int n;
        _busy = true;
        try
        {
            n = _device.Execute(command, header.Locality, _response);
            if (n is < TpmError.Size || n > _response.Length) throw new InvalidOperationException($"the device returned a {n}-byte response");
        }
        catch (Exception e)
        {
            _log.LogError(e, "tpmback {Name}: the device failed on a request", _store.Name);
            n = TpmError.Write(_response, TpmRc.Failure);
        }
        finally
        {
            _busy = false;
        }
        if (n > capacity)
        {
            // Mini-OS never answers here and the frontend hangs; answer an error that fits instead.
            _log.LogWarning("tpmback {Name}: {Length}-byte response does not fit the {Capacity} bytes granted", _store.Name, n, capacity);
            n = TpmError.Write(_response, TpmRc.Size);
        }
        ring.CopyToPages(refs, _response.AsSpan(0, n));
        ring.WriteLength((uint)n);
        ring.SetState(TpmifState.Finish);
        ring.KickFrontend();
        return true;
    }

    /// <summary>The second event handler: a CANCEL kick while a request is being executed cancels it in the device.</summary>
    sealed class CancelWatcher : IDisposable
    {
        readonly SharedRing _ring;
        readonly TpmifBackend _owner;
        readonly Thread _thread;
        volatile bool _stop;

        public CancelWatcher(SharedRing ring, TpmifBackend owner)
        {
            _ring = ring;
            _owner = owner;
            _thread = new Thread(Run) { IsBackground = true, Name = "tpmback cancel" };
            _thread.Start();
        }

        void Run()
        {
            uint seen = _ring.CancelKicks;
            while (!_stop)
            {
                // No timeout: Dispose's nudge cannot be lost (it bumps the counter), and an idle ring should
                // not wake this thread at all.
                _ring.WaitCancelKick(seen, Timeout.Infinite);
                if (_stop) break;
                uint now = _ring.CancelKicks;
                if (now == seen) continue;
                seen = now;
                if (_owner._busy && _ring.State == TpmifState.Cancel) _owner._device.Cancel();
            }
        }

        public void Dispose()
        {
            _stop = true;
            _ring.NudgeCancelWaiters();
            _thread.Join();
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        try
        {
            _currentRing?.NudgeFrontKickWaiters();
        }
        catch (ObjectDisposedException)
        {
        }
        _thread?.Join();
        try
        {
            SetState(XenbusState.Closed);
            // Like a backend directory removed by the toolstack: nothing of ours stays behind.
            Directory.Delete(_store.SideDirectory(Side.Backend), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        _stop.Dispose();
    }
}
