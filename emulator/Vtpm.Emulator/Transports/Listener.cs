using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// A listening TCP or Unix stream socket that runs one handler per accepted client; clients are served
/// concurrently (the instance serializes their commands), and one failing client never affects the others.
/// </summary>
public sealed class Listener : IAsyncDisposable
{
    readonly Socket _socket;
    readonly ILogger _log;
    readonly string _name;
    readonly List<Task> _clients = [];
    readonly CancellationTokenSource _cts = new();
    Task? _accept;

    const int Backlog = 16;

    public EndpointOptions Endpoint { get; }

    /// <summary>The bound TCP port (the real one when 0 was asked for).</summary>
    public int Port => _socket.LocalEndPoint is IPEndPoint ip ? ip.Port : 0;

    Listener(Socket socket, EndpointOptions endpoint, string name, ILogger log)
    {
        _socket = socket;
        Endpoint = endpoint;
        _name = name;
        _log = log;
    }

    /// <summary>
    /// Binds and listens (no clients are accepted until <see cref="Start"/>). The address is ours alone: a TCP
    /// port or Unix socket path another live listener holds is refused with a <see cref="ListenerException"/>
    /// naming it, so a client can never reach a different TPM than the one it started.
    /// </summary>
    public static Listener Bind(EndpointOptions endpoint, string name, ILogger log)
    {
        var s = endpoint.UnixPath is { } path ? BindUnix(path, endpoint.Mode, name) : BindTcp(endpoint, name);
        var l = new Listener(s, endpoint, name, log);
        log.LogInformation("{Name} listening on {Endpoint}", name, endpoint.IsUnix ? endpoint.UnixPath : $"{endpoint.Host}:{l.Port}");
        return l;
    }

    static Socket BindTcp(EndpointOptions endpoint, string name)
    {
        string host = endpoint.Host ?? "127.0.0.1";
        var address = ResolveBindAddress(host);
        var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            AllowTimeWaitReuse(s);
            s.Bind(new IPEndPoint(address, endpoint.Port));
            // Listening at once (not after the state is loaded): Linux checks a port's owners again at listen(),
            // and a port bound but not yet listening could still be bound by a second SO_REUSEADDR socket.
            s.Listen(Backlog);
            return s;
        }
        catch (SocketException e)
        {
            s.Dispose();
            throw new ListenerException(name, $"{host}:{endpoint.Port}", e);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    static Socket BindUnix(string path, UnixFileMode? mode, string name)
    {
        // Like swtpm, a stale socket file from a crashed run is replaced; unlike a blind unlink, a path a live
        // listener holds is refused (deleting it would orphan that server and hand its clients to us).
        if (File.Exists(path))
        {
            if (UnixSocketTable.HasListener(path))
                throw new ListenerException(name, path, new SocketException((int)SocketError.AddressAlreadyInUse));
            // A socket file has length 0; a regular file with content is never deleted (bind reports it).
            if (new FileInfo(path).Length == 0) File.Delete(path);
        }
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(new UnixDomainSocketEndPoint(UnixSocketTable.BindPath(path)));
            if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, m);
            s.Listen(Backlog);
            return s;
        }
        catch (SocketException e)
        {
            s.Dispose();
            throw new ListenerException(name, path, e);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>
    /// SO_REUSEADDR alone, so a restart right after a clean stop binds while old connections sit in TIME_WAIT
    /// (.NET on Linux sets it already; said here so the restart does not rest on a runtime default). Not
    /// <see cref="SocketOptionName.ReuseAddress"/>: on Linux .NET turns it into SO_REUSEADDR and SO_REUSEPORT, and
    /// SO_REUSEPORT lets a second process listen on the same port and take a share of its connections.
    /// </summary>
    static void AllowTimeWaitReuse(Socket s)
    {
        const int SolSocket = 1, SoReuseAddr = 2; // <asm-generic/socket.h>
        if (OperatingSystem.IsLinux()) s.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        else if (OperatingSystem.IsWindows()) s.ExclusiveAddressUse = true;
    }

    static IPAddress ResolveBindAddress(string host)
    {
        if (IPAddress.TryParse(host, out var ip)) return ip;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// Binds a port and the next one (Microsoft simulator: command port P, platform port P+1). With port 0,
    /// retries until the OS hands out a port whose successor is free too.
    /// </summary>
    public static (Listener First, Listener Second) BindPair(EndpointOptions endpoint, string firstName, string secondName, ILogger log)
    {
        for (int attempt = 0; ; attempt++)
        {
            var first = Bind(endpoint, firstName, log);
            try
            {
                return (first, Bind(endpoint with { Port = first.Port + 1 }, secondName, log));
            }
            catch (ListenerException) when (endpoint.Port == 0 && attempt < 20 && first.Port < 65535)
            {
                first.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch
            {
                first.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }
    }

    /// <summary>Starts accepting; <paramref name="handler"/> runs once per client and owns the socket.</summary>
    public void Start(Func<Socket, CancellationToken, Task> handler, CancellationToken stopping)
    {
        var ct = CancellationTokenSource.CreateLinkedTokenSource(stopping, _cts.Token).Token;
        _accept = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _socket.AcceptAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException e)
                {
                    _log.LogWarning("{Name}: accept failed: {Error}", _name, e.Message);
                    continue;
                }
                if (client.ProtocolType == ProtocolType.Tcp) client.NoDelay = true; // ECOSYSTEM §5: no 40 ms delayed-ACK stalls
                _log.LogDebug("{Name}: client connected", _name);
                var task = Task.Run(async () =>
                {
                    try
                    {
                        await handler(client, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                    {
                    }
                    catch (Exception e) when (e is SocketException or EndOfStreamException or IOException)
                    {
                        _log.LogDebug("{Name}: client dropped: {Error}", _name, e.Message);
                    }
                    catch (Exception e)
                    {
                        _log.LogError(e, "{Name}: client handler failed", _name);
                    }
                    finally
                    {
                        client.Dispose();
                        _log.LogDebug("{Name}: client disconnected", _name);
                    }
                }, CancellationToken.None);
                lock (_clients)
                {
                    _clients.RemoveAll(t => t.IsCompleted);
                    _clients.Add(task);
                }
            }
        }, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _socket.Dispose();
        if (_accept is not null) await _accept.ConfigureAwait(false);
        Task[] clients;
        lock (_clients) clients = [.. _clients];
        try
        {
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("{Name}: clients still running after 5 s; closing anyway", _name);
        }
        if (Endpoint.UnixPath is { } path) File.Delete(path);
        _cts.Dispose();
    }
}
