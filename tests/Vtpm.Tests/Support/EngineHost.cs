using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Support;

/// <summary>An in-process TPM for unit tests: powered on, optionally started.</summary>
public sealed class EngineHost
{
    public IStateStore Store { get; }
    public Tpm2Engine Tpm { get; private set; }
    readonly Tpm2Options? _options;
    readonly TpmPlatform? _platform;

    // platform: time and entropy; a frozen clock makes replays independent of the machine's speed.
    public EngineHost(bool startup = true, IStateStore? store = null, Tpm2Options? options = null, TpmPlatform? platform = null)
    {
        Store = store ?? new MemoryStateStore();
        _options = options;
        _platform = platform;
        Tpm = new Tpm2Engine(Store, options, platform);
        Tpm.Init();
        if (startup) Assert.AreEqual(TpmRc.Success, Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
    }

    /// <summary>Simulates a power cycle with a new engine on the same store (a process restart).</summary>
    public void Restart()
    {
        Tpm = new Tpm2Engine(Store, _options, _platform);
        Tpm.Init();
    }

    public Rsp Send(Cmd cmd, byte locality = 0, bool responseHandle = false) => Send(cmd.Build(), locality, responseHandle);

    public Rsp Send(byte[] command, byte locality = 0, bool responseHandle = false)
    {
        var response = new byte[4096];
        int n = Tpm.Execute(command, response, new CommandContext(locality));
        return new Rsp(response[..n], responseHandle);
    }
}
