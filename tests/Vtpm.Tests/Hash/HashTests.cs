using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using static Vtpm.Tests.Pcr.PcrHelpers;

namespace Vtpm.Tests.Hash;

[TestClass]
public sealed class HashTests
{
    static Cmd HashCmd(byte[] data, TpmAlgId alg, uint hierarchy) =>
        Cmd.Of(TpmCc.Hash).B2(data).U16((ushort)alg).U32(hierarchy);

    static (byte[] Digest, ushort Tag, uint Hierarchy, byte[] Hmac) ParseDigestAndTicket(byte[] p)
    {
        int o = 0;
        int n = U16(p, ref o);
        var digest = p.AsSpan(o, n).ToArray();
        o += n;
        ushort tag = U16(p, ref o);
        uint hierarchy = U32(p, ref o);
        int m = U16(p, ref o);
        var hmac = p.AsSpan(o, m).ToArray();
        Assert.AreEqual(p.Length, o + m);
        return (digest, tag, hierarchy, hmac);
    }

    static byte[] ExpectedTicket(EngineHost h, uint hierarchy, byte[] digest) =>
        HMACSHA512.HashData(h.Tpm.Hierarchy.GetProof(hierarchy), (byte[])[0x80, 0x24, .. digest]);

    [TestMethod]
    public void HashReturnsDigestAndHashCheckTicket()
    {
        var h = new EngineHost();
        var r = h.Send(HashCmd("abc"u8.ToArray(), TpmAlgId.Sha256, (uint)TpmRh.Owner));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var t = ParseDigestAndTicket(r.Parameters);
        CollectionAssert.AreEqual(SHA256.HashData("abc"u8), t.Digest);
        Assert.AreEqual((ushort)0x8024, t.Tag);
        Assert.AreEqual((uint)TpmRh.Owner, t.Hierarchy);
        CollectionAssert.AreEqual(ExpectedTicket(h, (uint)TpmRh.Owner, t.Digest), t.Hmac);
    }

    [TestMethod]
    public void HashOfDataStartingWithTpmGeneratedValueGetsNullTicket()
    {
        var h = new EngineHost();
        var t = ParseDigestAndTicket(h.Send(HashCmd([0xFF, 0x54, 0x43, 0x47, 1], TpmAlgId.Sha256, (uint)TpmRh.Owner)).Parameters);
        Assert.AreEqual((uint)TpmRh.Null, t.Hierarchy);
        Assert.IsEmpty(t.Hmac);
    }

    [TestMethod]
    public void HashWithNullHierarchyGetsNullTicket()
    {
        var h = new EngineHost();
        var t = ParseDigestAndTicket(h.Send(HashCmd("abc"u8.ToArray(), TpmAlgId.Sha1, (uint)TpmRh.Null)).Parameters);
        CollectionAssert.AreEqual(SHA1.HashData("abc"u8), t.Digest);
        Assert.AreEqual((uint)TpmRh.Null, t.Hierarchy);
        Assert.IsEmpty(t.Hmac);
    }

    [TestMethod]
    public void HashWithUnimplementedAlgorithmIsHashParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Hash.ForParameter(2), h.Send(HashCmd([1], (TpmAlgId)0x0005, (uint)TpmRh.Owner)).Rc);
    }

    [TestMethod]
    public void HashWithNonHierarchyIsValueParameter3()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(3), h.Send(HashCmd([1], TpmAlgId.Sha256, (uint)TpmRh.Lockout)).Rc);
    }

    [TestMethod]
    public void HashOfMoreThan1024BytesIsSizeParameter1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(HashCmd(new byte[1025], TpmAlgId.Sha256, (uint)TpmRh.Owner)).Rc);
    }

    static uint Start(EngineHost h, TpmAlgId alg, string auth = "")
    {
        var r = h.Send(Cmd.Of(TpmCc.HashSequenceStart).B2(auth).U16((ushort)alg), responseHandle: true);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        return r.Handle;
    }

    [TestMethod]
    public void HashSequenceMatchesOneShotHashAndTicket()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha384, "secret");
        Assert.AreEqual(0x80000000u, s);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.SequenceUpdate).Handle(s).Password("secret").B2("ab")).Rc);
        var r = h.Send(Cmd.Of(TpmCc.SequenceComplete).Handle(s).Password("secret").B2("c").U32((uint)TpmRh.Endorsement));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var t = ParseDigestAndTicket(r.Parameters);
        CollectionAssert.AreEqual(SHA384.HashData("abc"u8), t.Digest);
        Assert.AreEqual((uint)TpmRh.Endorsement, t.Hierarchy);
        CollectionAssert.AreEqual(ExpectedTicket(h, (uint)TpmRh.Endorsement, t.Digest), t.Hmac);
    }

    [TestMethod]
    public void SequenceStartingWithTpmGeneratedValueAcrossUpdatesGetsNullTicket()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha256);
        h.Send(Cmd.Of(TpmCc.SequenceUpdate).Handle(s).Password().B2([0xFF, 0x54]));
        var r = h.Send(Cmd.Of(TpmCc.SequenceComplete).Handle(s).Password().B2([0x43, 0x47]).U32((uint)TpmRh.Owner));
        Assert.AreEqual((uint)TpmRh.Null, ParseDigestAndTicket(r.Parameters).Hierarchy);
    }

    [TestMethod]
    public void SequenceCompleteFlushesTheSequence()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha256);
        h.Send(Cmd.Of(TpmCc.SequenceComplete).Handle(s).Password().B2("x").U32((uint)TpmRh.Null));
        Assert.AreEqual(TpmRc.ReferenceHandle(0), h.Send(Cmd.Of(TpmCc.SequenceUpdate).Handle(s).Password().B2("y")).Rc);
    }

    [TestMethod]
    public void FourthSequenceIsObjectMemory()
    {
        var h = new EngineHost();
        for (int i = 0; i < 3; i++) Start(h, TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.ObjectMemory, h.Send(Cmd.Of(TpmCc.HashSequenceStart).B2("").U16((ushort)TpmAlgId.Sha256)).Rc);
    }

    [TestMethod]
    public void FlushFreesTheSlot()
    {
        var h = new EngineHost();
        for (int i = 0; i < 3; i++) Start(h, TpmAlgId.Sha256);
        Assert.IsTrue(h.Tpm.Objects.Flush(0x80000001));
        Assert.IsFalse(h.Tpm.Objects.Flush(0x80000001));
        Assert.AreEqual(0x80000001u, Start(h, TpmAlgId.Sha1));
    }

    [TestMethod]
    public void SequenceUpdateWithWrongAuthIsBadAuth()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha256, "secret");
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(Cmd.Of(TpmCc.SequenceUpdate).Handle(s).Password("nope").B2("x")).Rc);
    }

    [TestMethod]
    public void HashSequenceStartWithUnimplementedAlgorithmIsHashParameter2()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Hash.ForParameter(2), h.Send(Cmd.Of(TpmCc.HashSequenceStart).B2("").U16(0x0005)).Rc);
    }

    [TestMethod]
    public void EventSequenceCompleteExtendsAndReturnsDigests()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Null);
        h.Send(Cmd.Of(TpmCc.SequenceUpdate).Handle(s).Password().B2("ab"));
        var r = h.Send(Cmd.Of(TpmCc.EventSequenceComplete).Handle(16).Handle(s).Password().Password().B2("c"));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        int o = 0;
        var list = ParseDigestValues(r.Parameters, ref o);
        Assert.HasCount(2, list);
        CollectionAssert.AreEqual(SHA1.HashData("abc"u8), list[0].Digest);
        CollectionAssert.AreEqual(SHA256.HashData("abc"u8), list[1].Digest);
        CollectionAssert.AreEqual(Sha256Extend(new byte[32], SHA256.HashData("abc"u8)), Read(h, TpmAlgId.Sha256, 16));
    }

    [TestMethod]
    public void SequenceCompleteOnEventSequenceIsModeHandle1()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Null);
        Assert.AreEqual(TpmRc.Mode.ForHandle(1), h.Send(Cmd.Of(TpmCc.SequenceComplete).Handle(s).Password().B2("").U32((uint)TpmRh.Null)).Rc);
    }

    [TestMethod]
    public void EventSequenceCompleteOnHashSequenceIsModeHandle2()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Mode.ForHandle(2), h.Send(Cmd.Of(TpmCc.EventSequenceComplete).Handle(16).Handle(s).Password().Password().B2("")).Rc);
    }

    [TestMethod]
    public void EventSequenceCompleteOnPcr17AtLocality0IsLocality()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Null);
        Assert.AreEqual(TpmRc.Locality, h.Send(Cmd.Of(TpmCc.EventSequenceComplete).Handle(17).Handle(s).Password().Password().B2("")).Rc);
    }

    [TestMethod]
    public void StartupFlushesSequences()
    {
        var h = new EngineHost();
        uint s = Start(h, TpmAlgId.Sha256);
        h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State));
        h.Restart();
        h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State));
        Assert.IsNull(h.Tpm.Objects.GetSequence(s));
    }
}
