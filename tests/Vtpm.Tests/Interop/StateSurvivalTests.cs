using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Interop;

/// <summary>
/// State across process death: Shutdown(STATE) + SIGKILL + restart + Startup(STATE) resumes PCRs and NV;
/// without Shutdown(STATE) NV persists and PCRs reset; a tampered state file stops the emulator with a
/// message naming the file. The survival rows also run against swtpm to check the expectations themselves.
/// </summary>
[TestClass]
public sealed class StateSurvivalTests
{
    const uint Index = 0x01500016;
    static readonly byte[] NvData = "survives a kill -9"u8.ToArray();

    public static IEnumerable<object[]> SocketTargets => [["vtpm-swtpm"], ["swtpm-swtpm"]];

    [TestMethod]
    [DynamicData(nameof(SocketTargets))]
    public void ShutdownStateThenKillResumesPcrsAndNv(string target)
    {
        var dir = Directory.CreateTempSubdirectory("vtpm-state-").FullName;
        try
        {
            byte[] pcrsBefore;
            using (var s = TpmServer.Start(target, dir))
            {
                Prepare(s);
                pcrsBefore = PcrDigests(s);
                Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State)).Rc);
                s.Kill();
            }
            using (var s = TpmServer.Start(target, dir))
            {
                // Part 1 §12.2.3: TPM Resume restores the PCRs listed in TPM_PT_PCR_SAVE (0–15 on a PC Client
                // TPM) and resets the others (PCR 16 here); the NV contents are intact.
                Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
                var after = PcrDigests(s);
                CollectionAssert.AreEqual(pcrsBefore[..64], after[..64], "PCRs 3 and 10 after Startup(STATE)");
                CollectionAssert.AreNotEqual(new byte[32], pcrsBefore[64..], "PCR 16 was extended");
                CollectionAssert.AreEqual(new byte[32], after[64..], "PCR 16 after Startup(STATE)");
                CollectionAssert.AreEqual(NvData, ReadNv(s));
                var clock = Send(s, Cmd.Of(TpmCc.ReadClock));
                Assert.AreEqual(TpmRc.Success, clock.Rc);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DynamicData(nameof(SocketTargets))]
    public void KillWithoutShutdownKeepsNvAndResetsPcrs(string target)
    {
        var dir = Directory.CreateTempSubdirectory("vtpm-state-").FullName;
        try
        {
            using (var s = TpmServer.Start(target, dir))
            {
                Prepare(s);
                s.Kill();
            }
            using (var s = TpmServer.Start(target, dir))
            {
                // No saved state: Startup(STATE) is TPM_RC_VALUE for parameter 1 (Part 3 §9.3); CLEAR works.
                Assert.AreEqual(TpmRc.Value.ForParameter(1), Send(s, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc);
                Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
                CollectionAssert.AreEqual(new byte[32 * 3], PcrDigests(s), "PCRs after a reset");
                CollectionAssert.AreEqual(NvData, ReadNv(s));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void FlippedByteInPermanentStateIsRefusedNamingTheFile() =>
        RefusesDamagedFile("tpm2-00.permall", bytes => bytes[bytes.Length / 2] ^= 0x01);

    [TestMethod]
    public void TruncatedPermanentStateIsRefusedNamingTheFile() =>
        RefusesDamagedFile("tpm2-00.permall", bytes => Array.Resize(ref bytes, bytes.Length / 2), truncate: true);

    [TestMethod]
    public void FlippedByteInSaveStateIsNeverSilentlyIgnored()
    {
        var dir = Directory.CreateTempSubdirectory("vtpm-state-").FullName;
        try
        {
            using (var s = TpmServer.Start("vtpm-swtpm", dir))
            {
                Prepare(s);
                Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State)).Rc);
                s.Kill();
            }
            var file = Path.Combine(dir, "tpm2-00.savestate");
            Assert.IsTrue(File.Exists(file), $"no {file} after Shutdown(STATE); files: {string.Join(", ", Directory.GetFiles(dir).Select(Path.GetFileName))}");
            var bytes = File.ReadAllBytes(file);
            bytes[bytes.Length / 2] ^= 0x80;
            File.WriteAllBytes(file, bytes);

            using var again = TpmServer.Launch(TpmTarget.Parse("vtpm-swtpm"), dir);
            // Either the process refuses to start, or it starts and refuses to resume from the damaged image.
            var exit = again.WaitForExit(TimeSpan.FromSeconds(3));
            if (exit is null)
            {
                again.Stop();
                var started = TpmServer.Start("vtpm-swtpm", dir);
                using (started)
                {
                    var rc = Send(started, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.State)).Rc;
                    Assert.AreNotEqual(TpmRc.Success, rc, "Startup(STATE) accepted a tampered save-state image");
                    Thread.Sleep(200);
                    StringAssert.Contains(started.Output, "tpm2-00.savestate", "the message does not name the damaged file");
                }
            }
            else
            {
                Assert.AreNotEqual(0, exit.Value, "exit code 0 on a damaged state file");
                StringAssert.Contains(again.Output, "tpm2-00.savestate", "the message does not name the damaged file");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static void RefusesDamagedFile(string name, Action<byte[]> damage, bool truncate = false)
    {
        var dir = Directory.CreateTempSubdirectory("vtpm-state-").FullName;
        try
        {
            using (var s = TpmServer.Start("vtpm-swtpm", dir))
            {
                Prepare(s);
                Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear)).Rc);
                s.Stop();
            }
            var file = Path.Combine(dir, name);
            Assert.IsTrue(File.Exists(file), $"no {file}; files: {string.Join(", ", Directory.GetFiles(dir).Select(Path.GetFileName))}");
            var bytes = File.ReadAllBytes(file);
            if (truncate)
            {
                bytes = bytes[..(bytes.Length / 2)];
            }
            else
            {
                damage(bytes);
            }
            File.WriteAllBytes(file, bytes);

            using var again = TpmServer.Launch(TpmTarget.Parse("vtpm-swtpm"), dir);
            var exit = again.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.IsNotNull(exit, $"vtpm kept running on a damaged {name}:\n{again.Output}");
            Assert.AreNotEqual(0, exit.Value, $"exit code 0 on a damaged {name}:\n{again.Output}");
            StringAssert.Contains(again.Output, name, "the message does not name the damaged file");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Startup(CLEAR), extend PCRs 3, 10 and 16, define and write an NV index.</summary>
    static void Prepare(TpmServer s)
    {
        Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        foreach (uint pcr in new uint[] { 3, 10, 16 })
        {
            var r = Send(s, Cmd.Of(TpmCc.PcrExtend).Handle(pcr).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(SHA256.HashData([(byte)pcr])));
            Assert.AreEqual(TpmRc.Success, r.Rc);
        }
        Assert.AreEqual(TpmRc.Success, Send(s, Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2("")
            .U16(14).U32(Index).U16((ushort)TpmAlgId.Sha256).U32(0x00060006).U16(0).U16((ushort)NvData.Length)).Rc);
        var w = Send(s, Cmd.Of(TpmCc.NvWrite).Handle(Index).Handle(Index).Password().B2(NvData).U16(0));
        Assert.AreEqual(TpmRc.Success, w.Rc);
    }

    /// <summary>SHA-256 PCRs 3, 10 and 16 (the TPML_DIGEST part of the PCR_Read response).</summary>
    static byte[] PcrDigests(TpmServer s)
    {
        var r = Send(s, Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, 3, 10, 16));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        // pcrUpdateCounter (4) + TPML_PCR_SELECTION (4 + 2 + 1 + 3) + count (4), then 3 × (size 2 + 32).
        var p = r.Parameters;
        Assert.AreEqual(4 + 10 + 4 + 3 * 34, p.Length);
        return [.. p[20..52], .. p[54..86], .. p[88..120]];
    }

    static byte[] ReadNv(TpmServer s)
    {
        var r = Send(s, Cmd.Of(TpmCc.NvRead).Handle(Index).Handle(Index).Password().U16((ushort)NvData.Length).U16(0));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        return r.Parameters[2..];
    }

    /// <summary>Sends a command, resending on TPM_RC_RETRY as a TSS would.</summary>
    static Rsp Send(TpmServer s, Cmd cmd)
    {
        var bytes = cmd.Build();
        for (int i = 0; ; i++)
        {
            var r = new Rsp(s.Transact(bytes), false);
            if (r.Rc.Code != 0x922 || i == 5) return r;
        }
    }
}
