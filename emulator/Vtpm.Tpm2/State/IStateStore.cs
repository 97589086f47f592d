namespace Vtpm.Tpm2.State;

/// <summary>
/// Where an instance keeps its blobs. Implementations write atomically and verify integrity on read;
/// a blob that fails its check raises <see cref="StateCorruptException"/> — it is never silently reset.
/// </summary>
public interface IStateStore
{
    /// <summary>The blob's payload, or null if it does not exist.</summary>
    byte[]? Load(StateBlobKind kind);

    /// <summary>Replaces the blob atomically (a crash leaves either the old or the new blob, never a mix).</summary>
    void Save(StateBlobKind kind, ReadOnlySpan<byte> payload);

    void Delete(StateBlobKind kind);
}

/// <summary>A state blob failed its integrity or format check.</summary>
public sealed class StateCorruptException(string location, string reason)
    : Exception($"state file {location} is corrupt or was tampered with: {reason}")
{
    public string Location { get; } = location;
}
