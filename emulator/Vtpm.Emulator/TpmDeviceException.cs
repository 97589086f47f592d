namespace Vtpm.Emulator;

/// <summary>
/// An <see cref="ITpmDevice"/> platform operation could not be carried out because the device cannot be reached
/// (e.g. tpmfront's ring has no backend). An <see cref="IOException"/>, so servers answer it as an I/O failure.
/// </summary>
public sealed class TpmDeviceException : IOException
{
    public TpmDeviceException()
    {
    }

    public TpmDeviceException(string message) : base(message)
    {
    }

    public TpmDeviceException(string message, Exception inner) : base(message, inner)
    {
    }
}
