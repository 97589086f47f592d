using Microsoft.Extensions.Logging;
using Vtpm.Emulator.Options;

namespace Vtpm.Emulator.Tpmif;

/// <summary>The one call Program makes: start the tpmback service when --tpmback was given.</summary>
public static class TpmbackHook
{
    /// <summary>The running service, or null (not asked for, or it could not start: logged).</summary>
    public static TpmbackService? Start(HostOptions o, TpmHost host, ILogger log)
    {
        if (o.Tpmback is not { } t) return null;
        var service = new TpmbackService(host, t.Store, t.Name, t.Uuid, t.SpinMicroseconds, log);
        try
        {
            service.Start();
            return service;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            log.LogCritical("--tpmback: {Error}", e.Message);
            service.Dispose();
            return null;
        }
    }
}
