using System.Buffers.Binary;
using Vtpm.Tests.Nv;
using Vtpm.Tests.Sessions;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Engine;

/// <summary>
/// The developer guide's "hot paths allocation-free": once warmed up, the common commands run through
/// the whole dispatcher pipeline (Tpm2Engine.Execute into a preallocated response buffer) without
/// allocating on the managed heap. Measured with GC.GetAllocatedBytesForCurrentThread around each
/// Execute only (building the next command and checking the response happen outside), so the figures
/// are exact byte counts, not timings. The one allowed exception is the command during which the random
/// number generator refills its output buffer (a CTR_DRBG Generate re-keys AES, and .NET allocates for
/// that): such commands are left out of the sum, and must stay rare.
/// </summary>
[TestClass]
public sealed class SteadyStateAllocationTests
{
    const int Warmup = 300;
    const int Measured = 500;
    const uint NvIndexHandle = Nv.Nv.TestIndex;
    const string NvPassword = "nv-password";

    readonly byte[] _response = new byte[4096];

    /// <summary>
    /// Runs <paramref name="next"/>'s commands, each once per round; returns the bytes allocated inside
    /// Execute over the measured rounds (commands that refilled the DRBG output left out) and how many
    /// measured commands refilled it.
    /// </summary>
    (long Bytes, int Refills, int Commands) AllocatedInExecute(EngineHost h, Func<int, byte[][]> next, Action<int, byte[], int>? check)
    {
        long total = 0;
        int refills = 0, measured = 0;
        for (int round = 0; round < Warmup + Measured; round++)
        {
            var commands = next(round);
            for (int c = 0; c < commands.Length; c++)
            {
                long refillsBefore = h.Tpm.Random.RefillCount;
                long before = GC.GetAllocatedBytesForCurrentThread();
                int n = h.Tpm.Execute(commands[c], _response, new CommandContext(0));
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                bool refilled = h.Tpm.Random.RefillCount != refillsBefore;
                uint rc = BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(6));
                Assert.AreEqual(0u, rc, $"command {c} of round {round} answered 0x{rc:X}");
                check?.Invoke(c, _response, n);
                if (round < Warmup) continue;
                measured++;
                if (refilled) refills++;
                else total += allocated;
            }
        }
        return (total, refills, measured);
    }

    void AssertAllocationFree(EngineHost h, Func<int, byte[][]> next, Action<int, byte[], int>? check = null)
    {
        var (bytes, refills, commands) = AllocatedInExecute(h, next, check);
        Assert.AreEqual(0L, bytes, $"{bytes / (double)(commands - refills):F1} bytes allocated per command after warm-up");
        Assert.IsLessThanOrEqualTo(commands / 16, refills, $"{refills} of {commands} commands refilled the DRBG output buffer");
    }

    static Func<int, byte[][]> Always(params Cmd[] commands)
    {
        var built = commands.Select(c => c.Build()).ToArray();
        return _ => built;
    }

    [TestMethod]
    public void GetRandomAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.GetRandom).U16(32)));
    }

    [TestMethod]
    public void PcrExtendSha256AllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.PcrExtend).Handle(16).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(new byte[32])));
    }

    [TestMethod]
    public void PcrExtendOfTwoBanksAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.PcrExtend).Handle(16).Password().U32(2)
            .U16((ushort)TpmAlgId.Sha1).Bytes(new byte[20]).U16((ushort)TpmAlgId.Sha256).Bytes(new byte[32])));
    }

    [TestMethod]
    public void PcrReadAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7)));
    }

    [TestMethod]
    public void PcrReadOfTwoBanksAllocatesNothing()
    {
        var h = new EngineHost();
        var select = new byte[] { 0xFF, 0, 0 };
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.PcrRead).U32(2)
            .U16((ushort)TpmAlgId.Sha1).U8(3).Bytes(select).U16((ushort)TpmAlgId.Sha256).U8(3).Bytes(select)));
    }

    [TestMethod]
    public void PcrEventAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.PcrEvent).Handle(16).Password().B2(new byte[64])));
    }

    [TestMethod]
    public void HashWithoutTicketAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.Hash).B2(new byte[512]).U16((ushort)TpmAlgId.Sha256).U32((uint)TpmRh.Null)));
    }

    [TestMethod]
    public void HashWithOwnerTicketAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.Hash).B2(new byte[512]).U16((ushort)TpmAlgId.Sha256).U32((uint)TpmRh.Owner)));
    }

    [TestMethod]
    public void HashSequenceStartUpdateCompleteAllocatesNothing()
    {
        var h = new EngineHost();
        uint sequence = ObjectSubsystem.TransientFirst;
        AssertAllocationFree(h,
            Always(
                Cmd.Of(TpmCc.HashSequenceStart).B2([]).U16((ushort)TpmAlgId.Sha256),
                Cmd.Of(TpmCc.SequenceUpdate).Handle(sequence).Password().B2(new byte[256]),
                Cmd.Of(TpmCc.SequenceComplete).Handle(sequence).Password().B2(new byte[16]).U32((uint)TpmRh.Null)),
            (c, response, _) =>
            {
                if (c == 0) Assert.AreEqual(sequence, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(10)), "the sequence reuses the freed slot");
            });
    }

    static EngineHost WithNvIndex()
    {
        var h = new EngineHost();
        Nv.Nv.Ok(h.Send(Nv.Nv.Define(NvIndexHandle, Nv.Nv.AuthRw, 32, NvPassword)));
        Nv.Nv.Ok(h.Tss(Nv.Nv.Write(new byte[32], auth: NvIndexHandle, password: NvPassword)));
        return h;
    }

    [TestMethod]
    public void NvWriteWithPasswordAllocatesNothing()
    {
        var h = WithNvIndex();
        AssertAllocationFree(h, Always(Nv.Nv.Write(new byte[32], auth: NvIndexHandle, password: NvPassword)));
    }

    [TestMethod]
    public void NvReadWithPasswordAllocatesNothing()
    {
        var h = WithNvIndex();
        AssertAllocationFree(h, Always(Nv.Nv.Read(32, auth: NvIndexHandle, password: NvPassword)));
    }

    [TestMethod]
    public void ReadClockAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.ReadClock)));
    }

    [TestMethod]
    public void GetCapabilityOfFixedPropertiesAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.TpmProperties).U32((uint)TpmPt.FamilyIndicator).U32(64)));
    }

    [TestMethod]
    public void GetCapabilityOfVariablePropertiesAllocatesNothing()
    {
        var h = new EngineHost();
        AssertAllocationFree(h, Always(Cmd.Of(TpmCc.GetCapability).U32((uint)TpmCap.TpmProperties).U32((uint)TpmPt.Permanent).U32(64)));
    }

    /// <summary>An HMAC session (unbound, unsalted, SHA-256, continueSession) authorizing PCR 16 for PCR_Extend.</summary>
    [TestMethod]
    public void PcrExtendThroughHmacSessionAllocatesNothing()
    {
        var h = new EngineHost();
        var s = TestSession.Start(h);
        var parameters = new byte[] { 0, 0, 0, 1, 0, (byte)TpmAlgId.Sha256 }.Concat(new byte[32]).ToArray();
        AssertAllocationFree(h,
            _ => [s.Command(TpmCc.PcrExtend, [16], [TestSession.NameOfHandle(16)], parameters, TpmaSessionBits.ContinueSession)],
            (_, response, n) => s.Response(new Rsp(response[..n], hasHandle: false), TpmCc.PcrExtend, TpmaSessionBits.ContinueSession));
    }

    static byte[] NameOfNvIndex(EngineHost h)
    {
        var rsp = h.Send(Nv.Nv.ReadPublic(NvIndexHandle));
        Nv.Nv.Ok(rsp);
        var p = rsp.Parameters;
        int publicSize = BinaryPrimitives.ReadUInt16BigEndian(p);
        int nameAt = 2 + publicSize;
        return p.AsSpan(nameAt + 2, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(nameAt))).ToArray();
    }

    /// <summary>An HMAC session authorizing an NV index with its authValue for NV_Read (the Name of the index is in cpHash).</summary>
    [TestMethod]
    public void NvReadThroughHmacSessionAllocatesNothing()
    {
        var h = WithNvIndex();
        var name = NameOfNvIndex(h);
        var auth = System.Text.Encoding.UTF8.GetBytes(NvPassword);
        var s = TestSession.Start(h);
        byte[] parameters = [0, 32, 0, 0];
        AssertAllocationFree(h,
            _ => [s.Command(TpmCc.NvRead, [NvIndexHandle, NvIndexHandle], [name, name], parameters, TpmaSessionBits.ContinueSession, auth)],
            (_, response, n) => s.Response(new Rsp(response[..n], hasHandle: false), TpmCc.NvRead, TpmaSessionBits.ContinueSession, auth));
    }

    /// <summary>
    /// A session bound to the NV index it authorizes (Part 1 §19.6.9: the authValue is then left out of the
    /// HMAC key, and the binding is checked on every use).
    /// </summary>
    [TestMethod]
    public void NvReadThroughBoundSessionAllocatesNothing()
    {
        var h = WithNvIndex();
        var name = NameOfNvIndex(h);
        var s = TestSession.Start(h, bind: NvIndexHandle, bindAuth: System.Text.Encoding.UTF8.GetBytes(NvPassword));
        byte[] parameters = [0, 32, 0, 0];
        AssertAllocationFree(h,
            _ => [s.Command(TpmCc.NvRead, [NvIndexHandle, NvIndexHandle], [name, name], parameters, TpmaSessionBits.ContinueSession)],
            (_, response, n) => s.Response(new Rsp(response[..n], hasHandle: false), TpmCc.NvRead, TpmaSessionBits.ContinueSession));
    }
}
