using Vtpm.Tpm2.State;

namespace Vtpm.Emulator.Options;

public enum HostMode { Socket, Mssim }

public enum StartupFlag { None, Clear, State }

/// <summary>A listening endpoint: TCP (port, bind address) or a Unix socket path.</summary>
public sealed record EndpointOptions(string? Host, int Port, string? UnixPath, UnixFileMode? Mode = null)
{
    public bool IsUnix => UnixPath is not null;

    public override string ToString() => IsUnix ? $"unix:{UnixPath}" : $"{Host}:{Port}";
}

/// <summary>The rendezvous store directory and device name of --tpmback, and the vTPM UUID to publish.</summary>
public sealed record TpmbackOptions(string Store, string Name, string? Uuid, int? SpinMicroseconds = null);

/// <summary>Everything the command line decides.</summary>
public sealed class HostOptions
{
    public HostMode Mode { get; set; }
    public string? StateDir { get; set; }
    public UnixFileMode? StateMode { get; set; }
    public StateKey? Key { get; set; }

    public EndpointOptions? Server { get; set; }
    public bool ServerDisconnect { get; set; }
    public EndpointOptions? Control { get; set; }
    public bool ControlTerminate { get; set; }

    /// <summary>--tpmback store=DIR,name=NAME[,uuid=UUID][,spin=US]: also serve the instance over a tpmif ring (Tpmif/).</summary>
    public TpmbackOptions? Tpmback { get; set; }

    /// <summary>swtpm -t/--terminate: exit when the data client disconnects.</summary>
    public bool Terminate { get; set; }

    public bool NotNeedInit { get; set; }
    public StartupFlag Startup { get; set; }
    public bool DisableAutoShutdown { get; set; }

    public string? LogFile { get; set; }
    public int? LogFd { get; set; }
    public int LogLevel { get; set; }
    public bool LogTruncate { get; set; }
    public string? LogPrefix { get; set; }
    public bool Trace { get; set; }

    public string? PidFile { get; set; }
    public int? PidFd { get; set; }
    public bool Daemon { get; set; }
    public bool PrintTcti { get; set; }

    /// <summary>The informational verbs: when set, the program prints and exits.</summary>
    public bool PrintCapabilities { get; set; }
    public bool Help { get; set; }
    public bool Version { get; set; }
}
