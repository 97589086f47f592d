using Vtpm.Tests.Support;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Engine;

/// <summary>
/// The dispatcher's single commit point writes permanent state only when a command changed it: PCRs,
/// random numbers and hashes live in RAM (Part 1 §17, §11.4.10), so those commands never reach the store,
/// while an NV_Write of an ordinary (not ORDERLY) index is written through before its response.
/// </summary>
[TestClass]
public sealed class StateCommitTests
{
    /// <summary>A store that counts the blobs written to it.</summary>
    sealed class CountingStore : IStateStore
    {
        readonly MemoryStateStore _inner = new();
        public int Saves { get; private set; }
        public byte[]? Load(StateBlobKind kind) => _inner.Load(kind);
        public void Save(StateBlobKind kind, ReadOnlySpan<byte> payload) { Saves++; _inner.Save(kind, payload); }
        public void Delete(StateBlobKind kind) => _inner.Delete(kind);
    }

    static int SavesDuring(EngineHost h, CountingStore store, Cmd command, int times = 10)
    {
        var bytes = command.Build();
        int before = store.Saves;
        for (int i = 0; i < times; i++) Assert.AreEqual(TpmRc.Success, h.Send(bytes).Rc);
        return store.Saves - before;
    }

    [TestMethod]
    public void PcrExtendWritesNoState()
    {
        var store = new CountingStore();
        var h = new EngineHost(store: store);
        Assert.AreEqual(0, SavesDuring(h, store, Cmd.Of(TpmCc.PcrExtend).Handle(16).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(new byte[32])));
    }

    [TestMethod]
    public void PcrEventWritesNoState()
    {
        var store = new CountingStore();
        var h = new EngineHost(store: store);
        Assert.AreEqual(0, SavesDuring(h, store, Cmd.Of(TpmCc.PcrEvent).Handle(16).Password().B2(new byte[64])));
    }

    [TestMethod]
    public void GetRandomWritesNoState()
    {
        var store = new CountingStore();
        var h = new EngineHost(store: store);
        Assert.AreEqual(0, SavesDuring(h, store, Cmd.Of(TpmCc.GetRandom).U16(32)));
    }

    [TestMethod]
    public void HashWritesNoState()
    {
        var store = new CountingStore();
        var h = new EngineHost(store: store);
        Assert.AreEqual(0, SavesDuring(h, store, Cmd.Of(TpmCc.Hash).B2(new byte[64]).U16((ushort)TpmAlgId.Sha256).U32((uint)TpmRh.Owner)));
    }

    [TestMethod]
    public void NvWriteOfAnOrdinaryIndexWritesStateEveryTime()
    {
        var store = new CountingStore();
        var h = new EngineHost(store: store);
        Nv.Nv.Ok(h.Send(Nv.Nv.Define(Nv.Nv.OwnerRw, 32)));
        Assert.AreEqual(10, SavesDuring(h, store, Nv.Nv.Write(new byte[32])));
    }
}
