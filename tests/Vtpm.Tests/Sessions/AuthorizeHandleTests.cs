using Vtpm.Tests.Support;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Sessions;

/// <summary>
/// Sessions that authorize a handle, run through the dispatcher's authorization step directly with a
/// descriptor shaped like TPM2_HierarchyChangeAuth (@authHandle: TPMI_RH_HIERARCHY_AUTH, USER role), so
/// these tests do not depend on which hierarchy commands are registered.
/// </summary>
[TestClass]
public sealed class AuthorizeHandleTests
{
    static readonly CommandDescriptor ChangeAuthShape = new(
        CommandCatalog.Get(TpmCc.HierarchyChangeAuth),
        static (Tpm2Engine t, ref CommandFrame f) => TpmRc.Success,
        [new HandleSpec(HandleKind.HierarchyAuth, AuthRole.User)]);

    static readonly byte[] NewAuthParameter = [0, 3, 0x61, 0x62, 0x63];

    static TpmRc RunAuthorization(EngineHost h, byte[] command, uint[] handles)
    {
        var r = new TpmReader(command);
        r.TrySkip(10 + 4 * handles.Length);
        Span<AuthSession> sessions = stackalloc AuthSession[3];
        var rc = Authorization.ParseSessionArea(ref r, sessions, out int count);
        if (rc.IsError) return rc;
        Span<uint> authSessionHandles = stackalloc uint[ChangeAuthShape.AuthHandleCount];
        return Authorization.Authorize(h.Tpm, ChangeAuthShape, handles, sessions[..count], command, r.Position, authSessionHandles, 0);
    }

    static byte[] ChangeOwnerAuth(TestSession s, bool corrupt = false, TpmaSessionBits attributes = TpmaSessionBits.ContinueSession) =>
        s.Command(TpmCc.HierarchyChangeAuth, [(uint)TpmRh.Owner], [TestSession.NameOfHandle((uint)TpmRh.Owner)], NewAuthParameter, attributes, authValue: [], corruptHmac: corrupt);

    [TestMethod]
    public void CorrectHmacAuthorizesOwner()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.Success, RunAuthorization(h, ChangeOwnerAuth(s), [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void BoundSessionAuthorizesItsBindEntity()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, bind: (uint)TpmRh.Owner, bindAuth: []);
        Assert.AreEqual(TpmRc.Success, RunAuthorization(h, ChangeOwnerAuth(s), [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void WrongHmacOnOwnerIsBadAuthForSessionOne()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), RunAuthorization(h, ChangeOwnerAuth(s, corrupt: true), [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void HmacOverOtherHandleNameIsBadAuth()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var cmd = s.Command(TpmCc.HierarchyChangeAuth, [(uint)TpmRh.Owner], [TestSession.NameOfHandle((uint)TpmRh.Endorsement)], NewAuthParameter, TpmaSessionBits.ContinueSession);
        Assert.AreEqual(TpmRc.BadAuth.ForSession(1), RunAuthorization(h, cmd, [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void PolicySessionNotMatchingAuthPolicyIsPolicyFail()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, TpmSe.Policy);
        Assert.AreEqual(TpmRc.PolicyFail.ForSession(1), RunAuthorization(h, ChangeOwnerAuth(s), [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void TrialSessionNeverAuthorizes()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, TpmSe.Trial);
        Assert.AreEqual(TpmRc.Attributes.ForSession(1), RunAuthorization(h, ChangeOwnerAuth(s), [(uint)TpmRh.Owner]));
    }

    [TestMethod]
    public void DecryptSessionRecoversNewAuthInPlace()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h, symAlg: TpmAlgId.Aes, keyBits: 128);
        var cmd = ChangeOwnerAuth(s, attributes: TpmaSessionBits.ContinueSession | TpmaSessionBits.Decrypt);
        int parametersStart = cmd.Length - NewAuthParameter.Length;
        CollectionAssert.AreNotEqual(NewAuthParameter, cmd[parametersStart..]);
        Assert.AreEqual(TpmRc.Success, RunAuthorization(h, cmd, [(uint)TpmRh.Owner]));
        CollectionAssert.AreEqual(NewAuthParameter, cmd[parametersStart..]);
    }
}
