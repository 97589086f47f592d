namespace Vtpm.Wire.Tpm2;

/// <summary>
/// A command's typed handles and parameters (generated per command from the catalog as <c>XxxIn</c>): what the
/// dispatcher hands a handler and what the typed client marshals.
/// </summary>
public interface ICommandIn
{
    /// <summary>The command code.</summary>
    TpmCc CommandCode { get; }

    /// <summary>Entries of the handle area.</summary>
    static abstract int HandleCount { get; }

    /// <summary>Takes the handle area, in order (already checked by the dispatcher).</summary>
    void ReadHandles(ReadOnlySpan<uint> handles);

    /// <summary>Writes the handle area, in order.</summary>
    void WriteHandles(Span<uint> handles);

    /// <summary>Unmarshals and checks the parameters; a failure carries the parameter number.</summary>
    TpmRc UnmarshalParameters(ref TpmReader r);

    /// <summary>Marshals the parameters.</summary>
    void MarshalParameters(ref TpmWriter w);
}

/// <summary>A command's typed response handle and parameters (generated per command as <c>XxxOut</c>).</summary>
public interface ICommandOut
{
    /// <summary>The response handle (0 for commands that return none).</summary>
    uint ResponseHandle { get; set; }

    /// <summary>Whether the response carries a handle.</summary>
    static abstract bool HasResponseHandle { get; }

    /// <summary>Unmarshals and checks the response parameters.</summary>
    TpmRc UnmarshalParameters(ref TpmReader r);

    /// <summary>Marshals the response parameters.</summary>
    void MarshalParameters(ref TpmWriter w);
}
