using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Dispatch;

/// <summary>
/// What a handler sees of one command: the validated handles, a reader over the (decrypted) parameter
/// area, and a writer for its response parameters. The Read helpers number parameters as Part 3 does
/// (1-based, in order) so a failure carries the right TPM_RC_P + index without the handler counting.
/// </summary>
public ref struct CommandFrame
{
    public TpmCc Code;
    public byte Locality;
    public ReadOnlySpan<uint> Handles;
    public TpmReader Parameters;
    public TpmWriter Response;

    /// <summary>Set by handlers of commands with <see cref="CommandAttributes.ResponseHandle"/>.</summary>
    public uint ResponseHandle;

    /// <summary>Session handles that authorized each auth handle, in handle order (password = TPM_RS_PW).</summary>
    public ReadOnlySpan<uint> AuthSessions;

    int _parameterIndex;

    /// <summary>The 1-based number of the next parameter to be read.</summary>
    public readonly int NextParameter => _parameterIndex + 1;

    TpmRc Fail(TpmRc rc) => rc.ForParameter(_parameterIndex);

    public TpmRc ReadUInt8(out byte value)
    {
        _parameterIndex++;
        return Parameters.TryReadUInt8(out value) ? TpmRc.Success : Fail(TpmRc.Insufficient);
    }

    public TpmRc ReadUInt16(out ushort value)
    {
        _parameterIndex++;
        return Parameters.TryReadUInt16(out value) ? TpmRc.Success : Fail(TpmRc.Insufficient);
    }

    public TpmRc ReadUInt32(out uint value)
    {
        _parameterIndex++;
        return Parameters.TryReadUInt32(out value) ? TpmRc.Success : Fail(TpmRc.Insufficient);
    }

    public TpmRc ReadUInt64(out ulong value)
    {
        _parameterIndex++;
        return Parameters.TryReadUInt64(out value) ? TpmRc.Success : Fail(TpmRc.Insufficient);
    }

    /// <summary>A TPMI_YES_NO: 0 or 1, anything else TPM_RC_VALUE.</summary>
    public TpmRc ReadYesNo(out bool value)
    {
        _parameterIndex++;
        value = false;
        if (!Parameters.TryReadUInt8(out byte b)) return Fail(TpmRc.Insufficient);
        if (b > 1) return Fail(TpmRc.Value);
        value = b == 1;
        return TpmRc.Success;
    }

    /// <summary>A TPM2B whose size must not exceed <paramref name="maxSize"/> (TPM_RC_SIZE otherwise).</summary>
    public TpmRc ReadSized16(out ReadOnlySpan<byte> value, int maxSize)
    {
        _parameterIndex++;
        var rc = Parameters.ReadSized16(out value, maxSize);
        return rc.IsSuccess ? rc : Fail(rc);
    }

    /// <summary>
    /// Reads a parameter with a structure parser; the parser returns a base code and this adds the
    /// parameter number. Use for TPML/TPMS/TPMT parameters.
    /// </summary>
    public TpmRc ReadStructure<T>(StructureParser<T> parser, out T value)
    {
        _parameterIndex++;
        var rc = parser(ref Parameters, out value);
        return rc.IsSuccess ? rc : Fail(rc);
    }

    /// <summary>
    /// Reads a parameter by checking it in place with <paramref name="check"/> (a base code, no index, as
    /// for <see cref="ReadStructure{T}"/>); <paramref name="encoded"/> is its wire form, not a copy.
    /// </summary>
    public TpmRc ReadChecked(StructureCheck check, out ReadOnlySpan<byte> encoded)
    {
        _parameterIndex++;
        int start = Parameters.Position;
        var rc = check(ref Parameters);
        encoded = rc.IsSuccess ? Parameters.Consumed[start..] : default;
        return rc.IsSuccess ? rc : Fail(rc);
    }

    /// <summary>
    /// Reads a list parameter into caller storage (typically stackalloc'd) with <paramref name="parser"/>;
    /// <paramref name="count"/> entries of <paramref name="storage"/> are filled.
    /// </summary>
    public TpmRc ReadList<T>(ListParser<T> parser, scoped Span<T> storage, out int count)
    {
        _parameterIndex++;
        var rc = parser(ref Parameters, storage, out count);
        return rc.IsSuccess ? rc : Fail(rc);
    }

    /// <summary>Reports an error in a parameter already read (1-based number).</summary>
    public static TpmRc ParameterError(TpmRc rc, int parameterNumber) => rc.ForParameter(parameterNumber);
}

/// <summary>A structure check over the wire form: returns a base TPM_RC (no index); the cursor does not move on failure.</summary>
public delegate TpmRc StructureCheck(ref TpmReader reader);

/// <summary>A list unmarshaller into caller storage: returns a base TPM_RC (no index); the cursor does not move on failure.</summary>
public delegate TpmRc ListParser<T>(ref TpmReader reader, scoped Span<T> storage, out int count);

/// <summary>A structure unmarshaller: returns a base TPM_RC (no index); the cursor does not move on failure.</summary>
public delegate TpmRc StructureParser<T>(ref TpmReader reader, out T value);
