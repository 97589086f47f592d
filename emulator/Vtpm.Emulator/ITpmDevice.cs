using Vtpm.Tpm2.State;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Emulator;

/// <summary>
/// What the guest-facing servers (<see cref="Transports.SwtpmServer"/>, <see cref="Transports.MssimServer"/>)
/// need from a TPM: commands at a locality, the platform lines (power, _TPM_Init, physical presence, cancel,
/// NV availability, the TPM-established flag, the H-CRTM hash sequence) and the state the control channels
/// expose (locality, buffer size, state blobs, configuration, fixed properties). <see cref="TpmHost"/> is the
/// in-process TPM; tpmfront's RingTpm is the same TPM reached over a tpmif ring.
/// </summary>
/// <remarks>
/// Platform operations that cannot be carried out because the device is unreachable (a ring whose backend is
/// gone) throw <see cref="TpmDeviceException"/>, an <see cref="IOException"/>, so the servers answer them like
/// any other I/O failure of the TPM (swtpm's TPM_FAIL). Commands never throw: they answer a TPM error response.
/// </remarks>
public interface ITpmDevice
{
    /// <summary>Set when the process should exit (ctrl SHUTDOWN, mssim STOP, terminate).</summary>
    CancellationToken Stopping { get; }

    string? StopReason { get; }

    /// <summary>Asks every transport to stop; the process exits once they have.</summary>
    void RequestStop(string reason);

    /// <summary>
    /// Executes one command at <paramref name="locality"/>, writes the response into <paramref name="response"/>
    /// (at least <see cref="MaxResponseSize"/> bytes) and returns its length.
    /// </summary>
    int Execute(ReadOnlySpan<byte> command, byte locality, Span<byte> response);

    /// <summary>Executes one command and returns a copy of the response.</summary>
    byte[] Execute(ReadOnlySpan<byte> command, byte locality)
    {
        var buffer = new byte[MaxResponseSize];
        int n = Execute(command, locality, buffer);
        return buffer.AsSpan(0, n).ToArray();
    }

    /// <summary>Largest command the device accepts.</summary>
    int MaxCommandSize { get; }

    /// <summary>Largest response the device produces.</summary>
    int MaxResponseSize { get; }

    /// <summary>Locality for data-channel commands (swtpm CMD_SET_LOCALITY).</summary>
    byte Locality { get; set; }

    /// <summary>Largest command accepted on the data channels (swtpm CMD_SET_BUFFERSIZE).</summary>
    int BufferSize { get; }

    /// <summary>swtpm CMD_SET_BUFFERSIZE: 0 queries; other values are clamped to [min, max].</summary>
    int SetBufferSize(int requested);

    bool IsPoweredOn { get; }

    /// <summary>_TPM_Init (swtpm CMD_INIT, MS POWER_ON/RESET), optionally after the automatic Shutdown and followed by the configured Startup.</summary>
    void Init(bool deleteVolatile = false, bool autoShutdown = true, bool sendStartup = true);

    /// <summary>Power off (swtpm CMD_STOP / CMD_SHUTDOWN, MS POWER_OFF), optionally after the automatic Shutdown.</summary>
    void PowerOff(bool autoShutdown);

    /// <summary>The TPM-established flag (PC Client platform TPM profile, TPM_ACCESS.tpmEstablishment).</summary>
    bool TpmEstablished { get; }

    /// <summary>Resets the TPM-established flag from <paramref name="locality"/>; false if that locality may not.</summary>
    bool ResetTpmEstablished(byte locality);

    /// <summary>_TPM_Hash_Start / _TPM_Hash_Data / _TPM_Hash_End (Part 3 §§ 32.2–32.4); false when out of sequence.</summary>
    bool HashStart();

    bool HashData(ReadOnlySpan<byte> data);

    bool HashEnd();

    /// <summary>swtpm CMD_CANCEL_TPM_CMD: cancel the command being executed.</summary>
    void CancelPulse();

    /// <summary>MS simulator CANCEL_ON / CANCEL_OFF: the cancel line as a level.</summary>
    void SetCancel(bool asserted);

    /// <summary>MS simulator PHYS_PRES_ON / OFF.</summary>
    void SetPhysicalPresence(bool asserted);

    /// <summary>MS simulator NV_ON / NV_OFF: whether the platform's NV is available.</summary>
    void SetNvAvailable(bool available);

    /// <summary>swtpm CMD_STORE_VOLATILE: write the volatile state to the state store.</summary>
    void StoreVolatile();

    /// <summary>
    /// swtpm CMD_GET_STATEBLOB: the payload of one state blob (the volatile blob of a running TPM is its RAM now;
    /// the others are what the store holds), or null when there is none. Throws StateCorruptException for a
    /// damaged stored blob.
    /// </summary>
    byte[]? GetStateBlob(StateBlobKind kind);

    /// <summary>swtpm CMD_SET_STATEBLOB: replaces one stored blob's payload (only while the TPM is off).</summary>
    void SetStateBlob(StateBlobKind kind, ReadOnlySpan<byte> payload);

    /// <summary>swtpm CMD_GET_CONFIG: whether the state is encrypted with a key file.</summary>
    bool HasFileKey { get; }

    /// <summary>A TPM_PT_FIXED property (Part 2 § 6.13) as TPM2_GetCapability reports it, or null if unknown.</summary>
    uint? FixedProperty(TpmPt property);

    /// <summary>The MS simulator's command/response size statistics; reading them resets them.</summary>
    (uint CommandSize, uint Command, uint ResponseSize, uint Response) TakeSizeStatistics();
}
