namespace Vtpm.Tpm2.State;

/// <summary>An in-memory store: for tests and for instances whose state lives elsewhere (the manager).</summary>
public sealed class MemoryStateStore : IStateStore
{
    readonly Dictionary<StateBlobKind, byte[]> _blobs = [];

    public byte[]? Load(StateBlobKind kind)
    {
        lock (_blobs) return _blobs.TryGetValue(kind, out var b) ? (byte[])b.Clone() : null;
    }

    public void Save(StateBlobKind kind, ReadOnlySpan<byte> payload)
    {
        lock (_blobs)
        {
            // The same state rewritten (the usual case: an NV write, a counter) reuses the blob's array.
            if (_blobs.TryGetValue(kind, out var b) && b.Length == payload.Length) payload.CopyTo(b);
            else _blobs[kind] = payload.ToArray();
        }
    }

    public void Delete(StateBlobKind kind)
    {
        lock (_blobs) _blobs.Remove(kind);
    }
}
