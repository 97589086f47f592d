using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Sessions;

[TestClass]
public sealed class SessionTests
{
    const TpmaSessionBits AuditContinue = TpmaSessionBits.Audit | TpmaSessionBits.ContinueSession;

    static byte[] GetRandomParameters(ushort n) => [(byte)(n >> 8), (byte)n];

    /// <summary>GetRandom(8) with an audit session: no handle needs authorization, the session's HMAC is still checked.</summary>
    static byte[] AuditedGetRandom(EngineHost h, TestSession s, TpmaSessionBits attributes = AuditContinue, ushort n = 8)
    {
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(n), attributes);
        return s.Response(h.Send(cmd), TpmCc.GetRandom, attributes);
    }

    static Rsp Flush(EngineHost h, uint handle) => h.Send(Cmd.Of(TpmCc.FlushContext).U32(handle));

    static byte[] Save(EngineHost h, uint handle)
    {
        var r = h.Send(Cmd.Of(TpmCc.ContextSave).Handle(handle));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        return r.Parameters;
    }

    static Rsp Load(EngineHost h, byte[] context) => h.Send(Cmd.Of(TpmCc.ContextLoad).Bytes(context), responseHandle: true);

    [TestMethod]
    public void StartAuthSessionReturnsHmacSessionHandleAndNonce()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(0x02u, s.Handle >> 24);
        Assert.AreEqual(32, s.NonceTpm.Length);
    }

    [TestMethod]
    public void StartAuthSessionPolicyReturnsPolicySessionHandle()
    {
        var h = new EngineHost();
        Assert.AreEqual(0x03u, TestSession.Start(h, TpmSe.Policy).Handle >> 24);
    }

    [TestMethod]
    public void StartAuthSessionShortNonceIsSizeForParameterOne()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(TestSession.StartCommand(new byte[15])).Rc);
    }

    [TestMethod]
    public void StartAuthSessionNonceLargerThanDigestIsSize()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(TestSession.StartCommand(new byte[21], hash: TpmAlgId.Sha1)).Rc);
    }

    [TestMethod]
    public void StartAuthSessionSaltWithoutKeyIsValueForParameterTwo()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2(new byte[4])
            .U8(0).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Value.ForParameter(2), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionBadTypeIsValueForParameterThree()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(2).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Value.ForParameter(3), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionUnsupportedSymmetricIsSymmetricForParameterFour()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(0).U16((ushort)TpmAlgId.Sm4).U16(128).U16((ushort)TpmAlgId.Cfb).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Symmetric.ForParameter(4), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionAes192IsValueForParameterFour()
    {
        // TPMI_AES_KEY_BITS has no 192 (swtpm agrees).
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(0).U16((ushort)TpmAlgId.Aes).U16(192).U16((ushort)TpmAlgId.Cfb).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Value.ForParameter(4), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionAesWithoutCfbIsModeForParameterFour()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(0).U16((ushort)TpmAlgId.Aes).U16(128).U16((ushort)TpmAlgId.Cbc).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.Mode.ForParameter(4), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionUnknownHashIsHashForParameterFive()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(0).U16((ushort)TpmAlgId.Null).U16(0x0099);
        Assert.AreEqual(TpmRc.Hash.ForParameter(5), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void StartAuthSessionWithUnloadedTpmKeyIsReferenceH0()
    {
        var h = new EngineHost();
        var cmd = Cmd.Of(TpmCc.StartAuthSession).Handle(0x80000000).Handle(TpmRh.Null).B2(new byte[16]).B2([])
            .U8(0).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256);
        Assert.AreEqual(TpmRc.ReferenceH0, h.Send(cmd).Rc);
    }

    [TestMethod]
    public void FourthLoadedSessionIsSessionMemory()
    {
        var h = new EngineHost();
        for (int i = 0; i < 3; i++) TestSession.Start(h);
        Assert.AreEqual(TpmRc.SessionMemory, h.Send(TestSession.StartCommand(new byte[32])).Rc);
    }

    [TestMethod]
    public void SixtyFifthActiveSessionIsSessionHandles()
    {
        var h = new EngineHost();
        for (int i = 0; i < 64; i++) Save(h, TestSession.Start(h).Handle);
        Assert.AreEqual(TpmRc.SessionHandles, h.Send(TestSession.StartCommand(new byte[32])).Rc);
    }

    [TestMethod]
    public void AuditSessionWithCorrectHmacRunsGetRandomAndSignsResponse()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var p = AuditedGetRandom(h, s);
        Assert.AreEqual(10, p.Length);
        Assert.AreEqual(8, BinaryPrimitives.ReadUInt16BigEndian(p));
    }

    [TestMethod]
    [DataRow(TpmAlgId.Sha1)]
    [DataRow(TpmAlgId.Sha384)]
    [DataRow(TpmAlgId.Sha512)]
    public void SessionHashAlgorithmsAuthorize(TpmAlgId hash)
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, hash: hash);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void BoundSessionKeyComesFromBindAuthValue()
    {
        var h = new EngineHost();
        // The owner's authValue is empty, but binding still makes sessionKey = KDFa(..., "ATH", ...).
        var s = TestSession.Start(h, bind: (uint)TpmRh.Owner, bindAuth: []);
        Assert.AreEqual(32, s.SessionKey.Length);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void WrongHmacIsBadAuthForSessionOne()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue, corruptHmac: true);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void ReplayedCommandFailsBecauseNonceTpmRolled()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue);
        s.Response(h.Send(cmd), TpmCc.GetRandom, AuditContinue);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void FailedCommandDoesNotRollNonce()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var bad = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue, corruptHmac: true);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), h.Send(bad).Rc);
        // A handler failure (trailing parameter bytes) after a good HMAC does not roll it either.
        var trailing = s.Command(TpmCc.GetRandom, [], [], [0, 8, 0], AuditContinue);
        Assert.AreEqual(TpmRc.Size, h.Send(trailing).Rc);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void NoncesRollOnEveryCommand()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var seen = new HashSet<string> { Convert.ToHexString(s.NonceTpm) };
        for (int i = 0; i < 3; i++)
        {
            AuditedGetRandom(h, s);
            Assert.IsTrue(seen.Add(Convert.ToHexString(s.NonceTpm)));
        }
    }

    [TestMethod]
    public void ContinueSessionClearFlushesSessionAfterCommand()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        AuditedGetRandom(h, s, TpmaSessionBits.Audit);
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Flush(h, s.Handle).Rc);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue);
        Assert.AreEqual(TpmRc.ReferenceS0, h.Send(cmd).Rc);
    }

    [TestMethod]
    public void UnknownSessionHandleIsReferenceS0()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.Success, Flush(h, s.Handle).Rc);
        Assert.AreEqual(TpmRc.ReferenceS0, h.Send(s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue)).Rc);
    }

    [TestMethod]
    public void SessionWithoutRoleOnCommandWithoutAuthHandleIsAttributes()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), TpmaSessionBits.ContinueSession);
        Assert.AreEqual(TpmRc.Attributes.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void DecryptOnCommandWithoutEncryptableParameterIsAttributes()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, symAlg: TpmAlgId.Xor);
        // GetRandom's first parameter is a UINT16, not a TPM2B.
        var cmd = Cmd.Of(TpmCc.GetRandom).RawSessions(SessionArea(s.Handle, 0x21)).U16(8).Build();
        Assert.AreEqual(TpmRc.Attributes.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void EncryptWithoutSymmetricIsSymmetric()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), TpmaSessionBits.Encrypt | TpmaSessionBits.ContinueSession);
        Assert.AreEqual(TpmRc.Symmetric.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void AuditOnPolicySessionIsAttributes()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, TpmSe.Policy);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue);
        Assert.AreEqual(TpmRc.Attributes.ForSession(1), h.Send(cmd).Rc);
    }

    [TestMethod]
    public void NonceCallerOfAnyLengthIsAccepted()
    {
        // As swtpm: the command's nonceCaller size is not checked (only StartAuthSession's is).
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
        var shortNonce = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue, nonceLength: 8);
        s.Response(h.Send(shortNonce), TpmCc.GetRandom, AuditContinue);
    }

    [TestMethod]
    public void SameSessionTwiceIsHandleForSessionTwo()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var one = SessionArea(s.Handle, 0x81);
        Assert.AreEqual(TpmRc.Handle.ForSession(2), h.Send(Cmd.Of(TpmCc.GetRandom).RawSessions([.. one, .. one]).U16(8)).Rc);
    }

    static byte[] SessionArea(uint handle, byte attributes) =>
        [.. TestSession.NameOfHandle(handle), 0, 16, .. new byte[16], attributes, 0, 0];

    [TestMethod]
    [DataRow(TpmAlgId.Xor, (ushort)0)]
    [DataRow(TpmAlgId.Aes, (ushort)128)]
    [DataRow(TpmAlgId.Aes, (ushort)256)]
    public void EncryptedGetRandomDecryptsToRequestedLength(TpmAlgId alg, ushort keyBits)
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, symAlg: alg, keyBits: keyBits);
        const TpmaSessionBits attrs = TpmaSessionBits.Encrypt | TpmaSessionBits.ContinueSession;
        var p = AuditedGetRandom(h, s, attrs, 20);
        Assert.AreEqual(22, p.Length);
        Assert.AreEqual(20, BinaryPrimitives.ReadUInt16BigEndian(p));
    }

    [TestMethod]
    [DataRow(TpmAlgId.Xor, (ushort)0)]
    [DataRow(TpmAlgId.Aes, (ushort)128)]
    [DataRow(TpmAlgId.Aes, (ushort)256)]
    public void EncryptedPolicyGetDigestDecryptsToZeroDigest(TpmAlgId alg, ushort keyBits)
    {
        var h = new EngineHost();
        var policy = TestSession.Start(h, TpmSe.Policy);
        var s = TestSession.Start(h, symAlg: alg, keyBits: keyBits);
        const TpmaSessionBits attrs = TpmaSessionBits.Encrypt | TpmaSessionBits.ContinueSession;
        var cmd = s.Command(TpmCc.PolicyGetDigest, [policy.Handle], [TestSession.NameOfHandle(policy.Handle)], [], attrs);
        var p = s.Response(h.Send(cmd), TpmCc.PolicyGetDigest, attrs);
        byte[] expected = [0, 32, .. new byte[32]];
        CollectionAssert.AreEqual(expected, p);
    }

    [TestMethod]
    [DataRow(TpmAlgId.Xor, (ushort)0)]
    [DataRow(TpmAlgId.Aes, (ushort)128)]
    public void DecryptSessionDecryptsFirstCommandParameter(TpmAlgId alg, ushort keyBits)
    {
        // StartAuthSession's nonceCaller travels encrypted; the new bound session's key depends on it,
        // so the new session only works if the TPM decrypted it to the value the client chose.
        var h = new EngineHost();
        var s = TestSession.Start(h, symAlg: alg, keyBits: keyBits);
        var nonceCaller = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var start = TestSession.StartCommand(nonceCaller, bind: (uint)TpmRh.Owner);
        var parameters = start.Build()[(10 + 8)..];
        const TpmaSessionBits attrs = TpmaSessionBits.Decrypt | TpmaSessionBits.ContinueSession;
        uint[] handles = [(uint)TpmRh.Null, (uint)TpmRh.Owner];
        var cmd = s.Command(TpmCc.StartAuthSession, handles, [.. handles.Select(TestSession.NameOfHandle)], parameters, attrs);
        var rsp = h.Send(cmd, responseHandle: true);
        var p = s.Response(rsp, TpmCc.StartAuthSession, attrs, hasHandle: true);
        var nonceTpm = p[2..];
        var bound = TestSessionFactory.FromParts(rsp.Handle, nonceTpm, TestSession.KdfA(TpmAlgId.Sha256, [], "ATH", nonceTpm, nonceCaller, 256));
        Assert.AreEqual(10, AuditedGetRandom(h, bound).Length);
    }

    [TestMethod]
    public void FlushContextRemovesLoadedSession()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.Success, Flush(h, s.Handle).Rc);
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Flush(h, s.Handle).Rc);
    }

    [TestMethod]
    public void FlushContextRemovesSavedSession()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var context = Save(h, s.Handle);
        Assert.AreEqual(TpmRc.Success, Flush(h, s.Handle).Rc);
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Load(h, context).Rc);
    }

    [TestMethod]
    public void FlushContextOfPermanentHandleIsValue()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Value.ForParameter(1), Flush(h, (uint)TpmRh.Owner).Rc);
    }

    [TestMethod]
    public void FlushContextWithSessionsTagIsAuthContext()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.AuthContext, h.Send(Cmd.Of(TpmCc.FlushContext).Password().U32(s.Handle)).Rc);
    }

    [TestMethod]
    public void ContextSaveAndLoadRoundTripKeepsSessionUsable()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        AuditedGetRandom(h, s);
        var context = Save(h, s.Handle);
        Assert.AreEqual(s.Handle, BinaryPrimitives.ReadUInt32BigEndian(context.AsSpan(8)));
        Assert.AreEqual((uint)TpmRh.Null, BinaryPrimitives.ReadUInt32BigEndian(context.AsSpan(12)));
        // While saved the session cannot be used.
        Assert.AreEqual(TpmRc.ReferenceS0, h.Send(s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue)).Rc);
        var r = Load(h, context);
        Assert.AreEqual(TpmRc.Success, r.Rc);
        Assert.AreEqual(s.Handle, r.Handle);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void ContextSaveOfSavedSessionIsReferenceH0()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Save(h, s.Handle);
        Assert.AreEqual(TpmRc.ReferenceH0, h.Send(Cmd.Of(TpmCc.ContextSave).Handle(s.Handle)).Rc);
    }

    [TestMethod]
    public void SavedSessionsFreeLoadedSlots()
    {
        var h = new EngineHost();
        for (int i = 0; i < 3; i++) Save(h, TestSession.Start(h).Handle);
        var four = TestSession.Start(h);
        Assert.AreEqual(10, AuditedGetRandom(h, four).Length);
    }

    [TestMethod]
    public void LoadingFourthSessionIsSessionMemory()
    {
        var h = new EngineHost();
        var context = Save(h, TestSession.Start(h).Handle);
        for (int i = 0; i < 3; i++) TestSession.Start(h);
        Assert.AreEqual(TpmRc.SessionMemory, Load(h, context).Rc);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(20)]
    [DataRow(-1)]
    public void TamperedContextIsIntegrityForParameterOne(int offsetInBlob)
    {
        var h = new EngineHost();
        var context = Save(h, TestSession.Start(h).Handle);
        int blobStart = 8 + 4 + 4 + 2;
        int at = offsetInBlob < 0 ? context.Length - 1 : blobStart + 2 + offsetInBlob;
        context[at] ^= 0x01;
        Assert.AreEqual(TpmRc.Integrity.ForParameter(1), Load(h, context).Rc);
    }

    [TestMethod]
    public void ContextWithChangedSequenceIsIntegrity()
    {
        var h = new EngineHost();
        var context = Save(h, TestSession.Start(h).Handle);
        context[7] ^= 0x01;
        Assert.AreEqual(TpmRc.Integrity.ForParameter(1), Load(h, context).Rc);
    }

    [TestMethod]
    public void ReplayedOlderContextIsHandleForParameterOne()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var first = Save(h, s.Handle);
        Assert.AreEqual(TpmRc.Success, Load(h, first).Rc);
        AuditedGetRandom(h, s);
        var second = Save(h, s.Handle);
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Load(h, first).Rc);
        Assert.AreEqual(TpmRc.Success, Load(h, second).Rc);
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void LoadingContextTwiceIsHandle()
    {
        var h = new EngineHost();
        var context = Save(h, TestSession.Start(h).Handle);
        Assert.AreEqual(TpmRc.Success, Load(h, context).Rc);
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Load(h, context).Rc);
    }

    [TestMethod]
    public void ContextSequenceIncreases()
    {
        var h = new EngineHost();
        var a = Save(h, TestSession.Start(h).Handle);
        var b = Save(h, TestSession.Start(h).Handle);
        Assert.IsGreaterThan(BinaryPrimitives.ReadUInt64BigEndian(a), BinaryPrimitives.ReadUInt64BigEndian(b));
    }

    [TestMethod]
    public void SavedSessionSurvivesShutdownStateProcessRestartAndStartupState()
    {
        var h = new EngineHost();
        var saved = TestSession.Start(h);
        AuditedGetRandom(h, saved);
        var context = Save(h, saved.Handle);
        var loaded = TestSession.Start(h);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State)).Rc);
        h.Restart();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
        Assert.AreEqual(TpmRc.Success, Load(h, context).Rc);
        Assert.AreEqual(10, AuditedGetRandom(h, saved).Length);
        // A session that was loaded at Shutdown is gone (Part 1 §30: loaded sessions do not survive Startup).
        Assert.AreEqual(TpmRc.Handle.ForParameter(1), Flush(h, loaded.Handle).Rc);
    }

    [TestMethod]
    public void SavedSessionDoesNotSurviveTpmReset()
    {
        var h = new EngineHost();
        var context = Save(h, TestSession.Start(h).Handle);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear)).Rc);
        h.Restart();
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        Assert.AreNotEqual(TpmRc.Success, Load(h, context).Rc);
    }

    [TestMethod]
    public void VolatileStateKeepsLoadedSessionAcrossProcessRestart()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        h.Tpm.StoreVolatile();
        h.Restart();
        Assert.AreEqual(10, AuditedGetRandom(h, s).Length);
    }

    [TestMethod]
    public void PolicyGetDigestOfFreshSessionIsZeros()
    {
        var h = new EngineHost();
        var policy = TestSession.Start(h, TpmSe.Trial, TpmAlgId.Sha384);
        var r = h.Send(Cmd.Of(TpmCc.PolicyGetDigest).Handle(policy.Handle));
        byte[] expected = [0, 48, .. new byte[48]];
        CollectionAssert.AreEqual(expected, r.Parameters);
    }

    [TestMethod]
    public void PolicyRestartOfHmacSessionIsValue()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.Value.ForHandle(1), h.Send(Cmd.Of(TpmCc.PolicyRestart).Handle(s.Handle)).Rc);
    }

    [TestMethod]
    public void PolicyRestartWithAuditSessionSucceeds()
    {
        var h = new EngineHost();
        var policy = TestSession.Start(h, TpmSe.Policy);
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.PolicyRestart, [policy.Handle], [TestSession.NameOfHandle(policy.Handle)], [], AuditContinue);
        s.Response(h.Send(cmd), TpmCc.PolicyRestart, AuditContinue);
    }

    [TestMethod]
    public void LoadedAndActiveSessionPropertiesCountSessions()
    {
        var h = new EngineHost();
        Save(h, TestSession.Start(h).Handle);
        TestSession.Start(h);
        uint Prop(TpmPt p)
        {
            Assert.IsTrue(h.Tpm.Sessions.TryGetProperty(p, out uint v));
            return v;
        }
        Assert.AreEqual(1u, Prop(TpmPt.HrLoaded));
        Assert.AreEqual(2u, Prop(TpmPt.HrLoadedAvail));
        Assert.AreEqual(2u, Prop(TpmPt.HrActive));
        Assert.AreEqual(62u, Prop(TpmPt.HrActiveAvail));
        Assert.AreEqual(0xFFFFu, Prop(TpmPt.ContextGapMax));
        Assert.AreEqual(3u, Prop(TpmPt.HrLoadedMin));
        Assert.AreEqual(64u, Prop(TpmPt.ActiveSessionsMax));
    }

    [TestMethod]
    public void ListHandlesSeparatesLoadedAndSavedSessions()
    {
        var h = new EngineHost();
        var saved = TestSession.Start(h);
        Save(h, saved.Handle);
        var loaded = TestSession.Start(h, TpmSe.Policy);
        var l = new List<uint>();
        h.Tpm.Sessions.ListHandles(TpmHt.LoadedSession, l);
        CollectionAssert.AreEqual(new[] { loaded.Handle }, l);
        l.Clear();
        h.Tpm.Sessions.ListHandles(TpmHt.SavedSession, l);
        CollectionAssert.AreEqual(new[] { saved.Handle }, l);
        // A saved policy session is listed by its slot in the HMAC range, as swtpm does.
        Save(h, loaded.Handle);
        l.Clear();
        h.Tpm.Sessions.ListHandles(TpmHt.SavedSession, l);
        CollectionAssert.AreEqual(new[] { saved.Handle, 0x02000000u | (loaded.Handle & 0xFFFFFF) }, l);
    }

    [TestMethod]
    public void AuditDigestExtendsWithCpHashAndRpHash()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var digest = new byte[32];
        for (int i = 0; i < 2; i++)
        {
            AuditedGetRandom(h, s);
            digest = s.HashOf([.. digest, .. s.LastCpHash, .. s.LastRpHash]);
        }
        Assert.IsTrue(h.Tpm.Sessions.TryGetLoaded(s.Handle, out var session));
        CollectionAssert.AreEqual(digest, session.AuditDigest);
        // auditReset starts the digest again.
        AuditedGetRandom(h, s, AuditContinue | TpmaSessionBits.AuditReset);
        CollectionAssert.AreEqual(s.HashOf([.. new byte[32], .. s.LastCpHash, .. s.LastRpHash]), session.AuditDigest);
    }

    [TestMethod]
    public void AuditExclusiveHoldsWhileOnlyTheSessionIsUsed()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        const TpmaSessionBits exclusive = AuditContinue | TpmaSessionBits.AuditExclusive;
        AuditedGetRandom(h, s, exclusive);
        AuditedGetRandom(h, s);
        AuditedGetRandom(h, s, exclusive);
        Assert.AreEqual(h.Tpm.Sessions.ExclusiveAuditSession, s.Handle);
    }

    [TestMethod]
    public void AuditExclusiveAfterUnauditedCommandIsExclusive()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        AuditedGetRandom(h, s);
        Assert.AreEqual(TpmRc.Success, h.Send(Cmd.Of(TpmCc.GetRandom).U16(4)).Rc);
        var cmd = s.Command(TpmCc.GetRandom, [], [], GetRandomParameters(8), AuditContinue | TpmaSessionBits.AuditExclusive);
        Assert.AreEqual(TpmRc.Exclusive, h.Send(cmd).Rc);
        // auditReset makes it the exclusive audit session again.
        AuditedGetRandom(h, s, AuditContinue | TpmaSessionBits.AuditExclusive | TpmaSessionBits.AuditReset);
    }
}

/// <summary>Builds a <see cref="TestSession"/> from values the test computed itself.</summary>
public static class TestSessionFactory
{
    public static TestSession FromParts(uint handle, byte[] nonceTpm, byte[] sessionKey) => TestSession.FromParts(handle, nonceTpm, sessionKey);
}
