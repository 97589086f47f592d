using System.Net.Sockets;

namespace Vtpm.Emulator.Transports;

/// <summary>
/// A listening address that cannot be had — most often because another live process holds it. The message
/// names the channel and the address, since the operator has to find the other process.
/// </summary>
public sealed class ListenerException(string channel, string address, SocketException cause)
    : IOException($"cannot listen on {address} ({channel}): {Describe(cause)}", cause)
{
    public string Address { get; } = address;

    public SocketError Error => cause.SocketErrorCode;

    static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use by another process",
        SocketError.AccessDenied => "permission denied",
        SocketError.AddressNotAvailable => "no such local address on this host",
        _ => e.Message,
    };
}
