namespace Vtpm.Tests.Support.Processes;

/// <summary>Which TPM implementation runs in the server process.</summary>
public enum TpmImplementation
{
    /// <summary>Debian's swtpm (libtpms): the behavioural oracle.</summary>
    Swtpm,
    /// <summary>Our emulator, <c>vtpm</c>.</summary>
    Vtpm,
    /// <summary><c>tpmfront</c> in front of a <c>vtpm --tpmback</c> over a tpmif ring (tests/Vtpm.Tests/Tpmif).</summary>
    Tpmfront,
}

/// <summary>The wire protocol spoken on the server's two ports.</summary>
public enum TpmProtocol
{
    /// <summary>swtpm socket mode: raw TPM bytes on the data port, swtpm control protocol on port + 1.</summary>
    Swtpm,
    /// <summary>Microsoft simulator protocol: command port, platform port = command port + 1.</summary>
    Mssim,
}

/// <summary>A server flavour named "implementation-protocol", as the interop data rows spell it.</summary>
public sealed record TpmTarget(TpmImplementation Implementation, TpmProtocol Protocol)
{
    /// <summary>Every flavour tpm2-tools can reach. swtpm only speaks its own protocol, so there is no swtpm-mssim.</summary>
    public static readonly string[] All = ["vtpm-mssim", "vtpm-swtpm", "swtpm-swtpm"];

    public static TpmTarget Parse(string name) => name switch
    {
        "vtpm-mssim" => new(TpmImplementation.Vtpm, TpmProtocol.Mssim),
        "vtpm-swtpm" => new(TpmImplementation.Vtpm, TpmProtocol.Swtpm),
        "swtpm-swtpm" => new(TpmImplementation.Swtpm, TpmProtocol.Swtpm),
        "tpmfront-mssim" => new(TpmImplementation.Tpmfront, TpmProtocol.Mssim),
        _ => throw new ArgumentException($"unknown TPM target '{name}' (expected one of {string.Join(", ", All)})", nameof(name)),
    };

    public string Name => $"{Implementation.ToString().ToLowerInvariant()}-{(Protocol == TpmProtocol.Mssim ? "mssim" : "swtpm")}";

    public override string ToString() => Name;
}
