namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// One entry of a command's authorization area (Part 1 §18.8, TPMS_AUTH_COMMAND), recorded as offsets
/// into the engine's private copy of the command so it can live in a stackalloc'd span.
/// </summary>
public struct AuthSession
{
    public uint Handle;
    public int NonceOffset;
    public int NonceLength;
    public byte Attributes;
    public int HmacOffset;
    public int HmacLength;

    /// <summary>Index into the command's handle area this session authorizes, or -1 (audit/encrypt only).</summary>
    public int AuthorizesHandle;
}
