using System.Security.Cryptography;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using Vtpm.Wire.Tpm2.Client;

namespace Vtpm.Tests.Interop;

/// <summary>
/// The typed client generated from the catalog, against real servers over real sockets: Debian's swtpm and vtpm
/// (both protocols) must answer its commands alike, and the answers must parse into the generated structures
/// with the values the specification fixes.
/// </summary>
[TestClass]
public sealed class TypedClientTests
{
    const uint Index = 0x01500020;

    static (TpmServer Server, RawTpmClient Connection, Tpm2Client Client) Open(string target)
    {
        var server = TpmServer.Start(target);
        server.PowerOnIfSimulator();
        var connection = server.Connect();
        var client = new Tpm2Client(connection);
        Assert.AreEqual(TpmRc.Success, client.Startup(TpmSu.Clear, out _));
        return (server, connection, client);
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void GetRandomReturnsTheBytesAsked(string target)
    {
        var (server, connection, client) = Open(target);
        using (server)
        using (connection)
        {
            Assert.AreEqual(TpmRc.Success, client.GetRandom(16, out var random));
            Assert.AreEqual(16, random.RandomBytes.Span.Length);
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void PcrExtendThenReadGivesTheSpecifiedValue(string target)
    {
        var (server, connection, client) = Open(target);
        using (server)
        using (connection)
        {
            var digest = SHA256.HashData("typed client"u8);
            var values = new TpmlDigestValues { Count = 1 };
            values.Digests[0].HashAlg = TpmAlgId.Sha256;
            digest.CopyTo(values.Digests[0].Digest.Sha256);
            Assert.AreEqual(TpmRc.Success, client.PcrExtend(16, in values, out _, [AuthCommand.EmptyPassword]));

            var selection = new TpmlPcrSelection { Count = 1 };
            selection.PcrSelections[0].Hash = TpmAlgId.Sha256;
            selection.PcrSelections[0].SizeofSelect = 3;
            selection.PcrSelections[0].PcrSelect[2] = 0x01; // PCR 16
            Assert.AreEqual(TpmRc.Success, client.PcrRead(in selection, out var read));

            // Part 1 §17.2: PCR := H(PCR || digest), from 32 zero bytes after reset.
            var expected = SHA256.HashData([.. new byte[32], .. digest]);
            Assert.AreEqual(1u, read.PcrValues.Count);
            CollectionAssert.AreEqual(expected, read.PcrValues.Digests[0].ToArray());
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void NvIndexDefinedWrittenAndReadBackHasTheNameOfItsPublicArea(string target)
    {
        var (server, connection, client) = Open(target);
        using (server)
        using (connection)
        {
            var pub = new Tpm2bNvPublic();
            pub.NvPublic.NvIndex = Index;
            pub.NvPublic.NameAlg = TpmAlgId.Sha256;
            pub.NvPublic.Attributes = (Wire.Tpm2.TpmaNv)0x00060006; // OWNERWRITE|AUTHWRITE|OWNERREAD|AUTHREAD
            pub.NvPublic.DataSize = 8;
            var auth = new Tpm2bAuth();
            Assert.AreEqual(TpmRc.Success, client.NvDefineSpace((uint)TpmRh.Owner, in auth, in pub, out _, [AuthCommand.EmptyPassword]));

            var data = Tpm2bMaxNvBuffer.From("8 bytes!"u8);
            Assert.AreEqual(TpmRc.Success, client.NvWrite(Index, Index, in data, 0, out _, [AuthCommand.EmptyPassword]));
            Assert.AreEqual(TpmRc.Success, client.NvRead(Index, Index, 8, 0, out var read, [AuthCommand.EmptyPassword]));
            CollectionAssert.AreEqual("8 bytes!"u8.ToArray(), read.Data.ToArray());

            Assert.AreEqual(TpmRc.Success, client.NvReadPublic(Index, out var readPublic));
            var area = readPublic.NvPublic.NvPublic;
            Assert.AreEqual(Index, area.NvIndex);
            Assert.IsTrue((area.Attributes & Wire.Tpm2.TpmaNv.Written) != 0, "TPMA_NV_WRITTEN after the write");
            // Part 1 §16: Name = nameAlg || H(marshalled TPMS_NV_PUBLIC).
            var buffer = new byte[Wire.Tpm2.TpmsNvPublic.MaxSize];
            var w = new TpmWriter(buffer);
            area.Marshal(ref w);
            byte[] name = [0x00, 0x0B, .. SHA256.HashData(w.Written)];
            CollectionAssert.AreEqual(name, readPublic.NvName.ToArray());
        }
    }

    [TestMethod]
    [DynamicData(nameof(InteropTpm.Targets), typeof(InteropTpm))]
    public void WrongOwnerPasswordIsBadAuthForSession1(string target)
    {
        var (server, connection, client) = Open(target);
        using (server)
        using (connection)
        {
            var auth = Tpm2bAuth.From("right"u8);
            Assert.AreEqual(TpmRc.Success, client.HierarchyChangeAuth((uint)TpmRh.Owner, in auth, out _, [AuthCommand.EmptyPassword]));
            var none = new Tpm2bAuth();
            // ownerAuth is not DA-protected: TPM_RC_BAD_AUTH, not TPM_RC_AUTH_FAIL (Part 1 §19.8.3), as swtpm answers.
            Assert.AreEqual(TpmRc.BadAuth.ForSession(1), client.HierarchyChangeAuth((uint)TpmRh.Owner, in none, out _, [AuthCommand.Password("wrong")]));
            Assert.AreEqual(TpmRc.Success, client.HierarchyChangeAuth((uint)TpmRh.Owner, in none, out _, [AuthCommand.Password("right")]));
        }
    }
}
