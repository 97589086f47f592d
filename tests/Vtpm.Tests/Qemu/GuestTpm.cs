using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// The TPM a guest's QEMU is attached to. "vtpm": QEMU on vtpm's own control channel. "tpmfront": QEMU on a
/// tpmfront's control channel, every command and control request crossing the tpmif ring to a
/// <c>vtpm --tpmback</c>. Either way the test reads the TPM through the vtpm's side data channel.
/// </summary>
public sealed class GuestTpm : IDisposable
{
    public const string ViaVtpm = "vtpm", ViaTpmfront = "tpmfront";

    public VtpmInstance Vtpm { get; }

    /// <summary>The tpmfront QEMU talks to (null for "vtpm").</summary>
    public TpmfrontInstance? Front { get; private set; }

    public bool ViaRing => Vtpm.Store is not null;

    /// <summary>The control socket QEMU's <c>-chardev socket</c> connects to.</summary>
    public string ControlPath => Front?.ControlPath ?? Vtpm.ControlPath;

    public string Output => "vtpm:\n" + Vtpm.Output + (Front is null ? "" : "tpmfront:\n" + Front.Output);

    /// <summary>
    /// Starts the TPM in <paramref name="dir"/> with its state in <paramref name="stateDir"/>; with
    /// <paramref name="terminate"/> the process QEMU talks to exits when QEMU's control connection drops.
    /// </summary>
    public GuestTpm(string via, string dir, string stateDir, string family, bool terminate = false)
    {
        if (via is not (ViaVtpm or ViaTpmfront)) throw new ArgumentException($"unknown TPM attachment '{via}'", nameof(via));
        Vtpm = via == ViaVtpm
            ? new VtpmInstance(dir, stateDir, family, terminate)
            : new VtpmInstance(dir, stateDir, family, tpmbackStore: Path.Combine(dir, "rendezvous"));
        try
        {
            if (via == ViaTpmfront) Front = new TpmfrontInstance(Path.Combine(dir, "front"), Vtpm.Store!, terminate);
        }
        catch
        {
            Vtpm.Dispose();
            throw;
        }
    }

    /// <summary>The process that must exit when QEMU shuts the TPM down or goes away (tpmfront, or the vtpm itself).</summary>
    public System.Diagnostics.Process Attached => Front?.Process ?? Vtpm.Process;

    public string AttachedPidFile => Front?.PidFile ?? Vtpm.PidFile;

    /// <summary>A new tpmfront against the same vtpm (after the previous one exited), in <paramref name="dir"/>.</summary>
    public TpmfrontInstance ReplaceFront(string dir, bool terminate = false)
    {
        Front?.Dispose();
        Front = null;
        Front = new TpmfrontInstance(dir, Vtpm.Store!, terminate);
        return Front;
    }

    /// <summary>The backend's Xenbus state key (2 = InitWait: waiting for a frontend).</summary>
    public string? BackendState => Vtpm.Store is { } s ? TpmServer.ReadKey(s, "backend", "state") : null;

    public void Dispose()
    {
        Front?.Dispose();
        Vtpm.Dispose();
    }
}
