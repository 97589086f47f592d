using Vtpm.Tpm2.State;

namespace Vtpm.Tests.State;

[TestClass]
public sealed class StateKeyTests
{
    [TestMethod]
    [DataRow(0)]
    [DataRow(15)]
    [DataRow(24)]
    [DataRow(33)]
    public void Key_OfWrongLength_IsRejected(int length) =>
        Assert.ThrowsExactly<ArgumentException>(() => new StateKey(new byte[length]));

    [TestMethod]
    public void Seal_With16ByteKey_RoundTrips()
    {
        var key = new StateKey(new byte[16]);
        var sealedBlob = StateEnvelope.Seal(StateBlobKind.Volatile, [9, 8, 7], key);
        CollectionAssert.AreEqual(new byte[] { 9, 8, 7 }, StateEnvelope.Open(StateBlobKind.Volatile, sealedBlob, key, "mem"));
    }

    [TestMethod]
    public void Seal_EmptyPayload_RoundTrips()
    {
        var sealedBlob = StateEnvelope.Seal(StateBlobKind.SaveState, [], null);
        Assert.AreEqual(0, StateEnvelope.Open(StateBlobKind.SaveState, sealedBlob, null, "mem").Length);
    }
}
