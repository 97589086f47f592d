using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// One area of TPM state (hierarchies, NV, PCRs, sessions, ...) with its own part of each state blob
/// and its own reaction to the power and startup events of TPM 2.0 Part 1 §12 (TPM Reset, Restart,
/// Resume). The engine calls every subsystem in a fixed order; a subsystem never reaches into another's
/// fields, it asks through the engine.
/// </summary>
public abstract class Subsystem(Tpm2Engine tpm)
{
    protected Tpm2Engine Tpm { get; } = tpm;

    /// <summary>Four ASCII characters naming this subsystem's section in the state blobs.</summary>
    public abstract string Tag { get; }

    /// <summary>First power-on of a new instance ("manufacturing"): seeds, defaults.</summary>
    public virtual void Manufacture() { }

    public virtual void WritePermanent(StateWriter w) { }
    public virtual void ReadPermanent(StateReader r) { }

    /// <summary>What lives in TPM RAM; written for STORE_VOLATILE, migration and Shutdown(STATE).</summary>
    public virtual void WriteVolatile(StateWriter w) { }
    public virtual void ReadVolatile(StateReader r) { }

    /// <summary>_TPM_Init (power on / CMD_INIT): RAM contents are gone; a Startup is now required.</summary>
    public virtual void OnInit() { }

    /// <summary>TPM2_Startup has been accepted; <paramref name="kind"/> says which of Part 1 §12.2's three it is.</summary>
    public virtual void OnStartup(StartupKind kind) { }

    /// <summary>TPM2_Shutdown has been accepted, before the save-state image is taken.</summary>
    public virtual void OnShutdown(TpmSu shutdownType) { }

    /// <summary>The authorization data of an entity this subsystem owns (Part 1 §19.4).</summary>
    public virtual bool TryGetEntity(uint handle, out AuthEntity entity)
    {
        entity = default;
        return false;
    }

    /// <summary>Handles this subsystem has of a given type, for TPM2_GetCapability(TPM_CAP_HANDLES).</summary>
    public virtual void ListHandles(TpmHt type, List<uint> handles) { }

    /// <summary>Variable TPM properties (Part 2 §6.13 PT_VAR group) this subsystem answers.</summary>
    public virtual bool TryGetProperty(TpmPt property, out uint value)
    {
        value = 0;
        return false;
    }
}

/// <summary>Part 1 §12.2: the three kinds of TPM2_Startup.</summary>
public enum StartupKind
{
    /// <summary>Startup(CLEAR) after Shutdown(CLEAR) or no orderly shutdown.</summary>
    Reset,

    /// <summary>Startup(CLEAR) after Shutdown(STATE).</summary>
    Restart,

    /// <summary>Startup(STATE) after Shutdown(STATE).</summary>
    Resume,
}
