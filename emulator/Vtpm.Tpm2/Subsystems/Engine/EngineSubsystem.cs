using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// Instance-wide bookkeeping: whether Startup has run, and how the TPM last went down
/// (Part 1 §12.2.3 orderly/disorderly shutdown), which decides the kind of the next Startup.
/// </summary>
public sealed class EngineSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>Format version of the whole permanent blob; bump when any section changes incompatibly.</summary>
    public const uint PermanentFormat = 1;

    public override string Tag => "ENGN";

    public bool Started { get; set; }

    /// <summary>The locality TPM2_Startup arrived at (PCR 0 initialisation depends on it, PC Client §2.3.4).</summary>
    public byte StartupLocality { get; set; }

    /// <summary>TPM_SU_CLEAR or TPM_SU_STATE of the last orderly shutdown; null while running or after a disorderly stop.</summary>
    public TpmSu? OrderlyShutdown { get; set; }

    /// <summary>Set at _TPM_Init when the previous run ended without TPM2_Shutdown (Part 1 §12.2.3).</summary>
    public bool LastShutdownWasDisorderly { get; private set; }

    /// <summary>A new TPM has never run: its first start is not after a power loss.</summary>
    public override void Manufacture() => OrderlyShutdown = TpmSu.Clear;

    public override void WritePermanent(StateWriter w)
    {
        w.U32(PermanentFormat);
        w.U16(OrderlyShutdown is { } su ? (ushort)su : (ushort)0xFFFF);
    }

    public override void ReadPermanent(StateReader r)
    {
        uint format = r.U32();
        if (format > PermanentFormat) throw new StateFormatException($"permanent state format {format} is newer than this build reads ({PermanentFormat})");
        ushort su = r.U16();
        OrderlyShutdown = su == 0xFFFF ? null : (TpmSu)su;
    }

    public override void WriteVolatile(StateWriter w) => w.Bool(Started);

    public override void ReadVolatile(StateReader r) => Started = r.Bool();

    public override void OnInit()
    {
        Started = false;
        LastShutdownWasDisorderly = OrderlyShutdown is null;
    }

    public override void OnStartup(StartupKind kind)
    {
        // Running now: until the next TPM2_Shutdown, a power loss is disorderly.
        OrderlyShutdown = null;
        Tpm.MarkPermanentDirty();
    }

    public override void OnShutdown(TpmSu shutdownType)
    {
        OrderlyShutdown = shutdownType;
        Tpm.MarkPermanentDirty();
    }
}
