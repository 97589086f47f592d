using Vtpm.Tests.Support;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Clock;

/// <summary>A platform whose monotonic time the test moves by hand.</summary>
public sealed class ManualPlatform : TpmPlatform
{
    public ulong Now;
    public override ulong MonotonicMilliseconds => Now;
}

/// <summary>An in-process engine on a <see cref="ManualPlatform"/>, for time-dependent behaviour (DA healing, Clock).</summary>
public sealed class ManualClockHost
{
    public IStateStore Store { get; } = new MemoryStateStore();
    public ManualPlatform Platform { get; private set; } = new();
    public Tpm2Engine Tpm { get; private set; }

    public ManualClockHost()
    {
        Tpm = new Tpm2Engine(Store, null, Platform);
        Tpm.Init();
        Startup(TpmSu.Clear);
    }

    public void Advance(ulong ms) => Platform.Now += ms;

    public void Startup(TpmSu su) => Assert.AreEqual(TpmRc.Success, Send(Cmd.Of(TpmCc.Startup).U16((ushort)su)).Rc);

    public void Shutdown(TpmSu su) => Assert.AreEqual(TpmRc.Success, Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)su)).Rc);

    /// <summary>A process restart on the same store (fresh platform whose time starts at 0); Startup not sent.</summary>
    public void Restart()
    {
        Platform = new ManualPlatform();
        Tpm = new Tpm2Engine(Store, null, Platform);
        Tpm.Init();
    }

    public Rsp Send(Cmd cmd) => Send(cmd.Build());

    /// <summary>Sends like a TSS: TPM_RC_RETRY is sent again once.</summary>
    public Rsp Tss(Cmd cmd)
    {
        var r = Send(cmd);
        return r.Rc == TpmRc.Retry ? Send(cmd) : r;
    }

    public Rsp Send(byte[] command)
    {
        var response = new byte[4096];
        int n = Tpm.Execute(command, response, new CommandContext(0));
        return new Rsp(response[..n], false);
    }
}
