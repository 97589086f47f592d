using Microsoft.Extensions.Logging;
using Vtpm.Frontend;
using Vtpm.Wire;

namespace Vtpm.Tpmfront;

/// <summary>
/// The ring-connected vTPM as the guest-facing servers see it: commands and platform signals through one
/// <see cref="TpmifFrontend"/>, plus the process-wide stop request and the MS simulator's size statistics.
/// </summary>
public sealed class RingTpm(TpmifFrontend frontend, ILogger log)
{
    readonly CancellationTokenSource _stop = new();
    readonly object _stats = new();
    uint _largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse;

    public TpmifFrontend Frontend => frontend;
    public CancellationToken Stopping => _stop.Token;
    public string? StopReason { get; private set; }

    public void RequestStop(string reason)
    {
        StopReason ??= reason;
        log.LogInformation("stopping: {Reason}", reason);
        _stop.Cancel();
    }

    /// <summary>
    /// A client's command. The in-band platform command code is the frontend's own: a client sending it gets
    /// TPM_RC_COMMAND_CODE here and the ring never sees it.
    /// </summary>
    public byte[] Execute(ReadOnlySpan<byte> command, byte locality)
    {
        byte[] response = RingPlatform.IsPlatformCommand(command) ? RingPlatform.Error(TpmRc.CommandCode) : frontend.Transact(command, locality);
        lock (_stats)
        {
            uint code = command.Length >= 10 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
            if ((uint)command.Length > _largestCommandSize) { _largestCommandSize = (uint)command.Length; _largestCommand = code; }
            if ((uint)response.Length > _largestResponseSize) { _largestResponseSize = (uint)response.Length; _largestResponse = RingPlatform.ResponseCode(response)?.Code ?? 0; }
        }
        return response;
    }

    /// <summary>A platform signal through the ring: the response code and the u32 result.</summary>
    public (TpmRc Rc, uint Result) Signal(PlatformSignal signal, uint argument = 0, ReadOnlySpan<byte> data = default)
    {
        var rsp = frontend.Transact(RingPlatform.Build(signal, argument, data));
        var rc = RingPlatform.ResponseCode(rsp) ?? TpmRc.Failure;
        if (rc.IsError) log.LogWarning("platform signal {Signal} through the ring: {Rc}", signal, rc);
        return (rc, RingPlatform.Result(rsp));
    }

    public (uint CommandSize, uint Command, uint ResponseSize, uint Response) TakeSizeStatistics()
    {
        lock (_stats)
        {
            var r = (_largestCommandSize, _largestCommand, _largestResponseSize, _largestResponse);
            _largestCommandSize = _largestCommand = _largestResponseSize = _largestResponse = 0;
            return r;
        }
    }
}
