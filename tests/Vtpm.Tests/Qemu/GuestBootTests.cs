using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;
using NvCmd = Vtpm.Tests.Nv.Nv;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// A real Linux guest (Debian's 6.1 kernel, tpm_tis / tpm_crb built in, busybox initramfs) boots under
/// qemu-system-x86_64 (TCG) with <c>-tpmdev emulator</c> against our vtpm, exactly as QEMU uses swtpm.
/// Everything the guest sees comes from its serial console; the host compares it with what the same
/// running vtpm reports on a second data channel. Parameterized by TPM family so the TPM 1.2 rows drop in
/// with the TPM 1.2 engine, and by attachment (<see cref="GuestTpm"/>): QEMU on vtpm itself, or on a
/// tpmfront whose every command and control request crosses the tpmif ring to a <c>vtpm --tpmback</c>. For
/// tpmfront the lifecycle is Xen's: QEMU's CMD_SHUTDOWN (or its death, with terminate) ends the tpmfront,
/// while the vtpm powers its TPM off (or keeps it) and waits for the next frontend.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class GuestBootTests
{
    static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(100);
    string _dir = "";

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-qemu-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    static string FamilyMajor(string family) => family == "2.0" ? "2" : "1";

    /// <summary>GetRandom(8) answered with success: header 80 01, size 0x14, rc 0, then TPM2B of 8 bytes.</summary>
    [GeneratedRegex("^800100000014000000000008[0-9a-f]{16}$")]
    private static partial Regex GetRandomSuccess();

    static Dictionary<string, string> Lines(string serial, string prefix)
    {
        var d = new Dictionary<string, string>();
        foreach (var raw in serial.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith(prefix + " ", StringComparison.Ordinal)) continue;
            var rest = line[(prefix.Length + 1)..];
            int sp = rest.IndexOf(' ', StringComparison.Ordinal);
            if (sp < 0) d[""] = rest; else d[rest[..sp]] = rest[(sp + 1)..];
        }
        return d;
    }

    static string Single(string serial, string prefix) =>
        Lines(serial, prefix).TryGetValue("", out var v) ? v : throw new AssertFailedException($"no '{prefix}' line in:\n{serial}");

    static void AssertRandomOk(string serial, string what)
    {
        string hex = Single(serial, what);
        Assert.IsTrue(GetRandomSuccess().IsMatch(hex), $"{what}: GetRandom reply {hex}\n{serial}");
    }

    void Report(QemuVm vm, GuestTpm tpm)
    {
        TestContext.WriteLine("serial:\n" + vm.Serial);
        TestContext.WriteLine(tpm.Output);
    }

    static void WaitUntil(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(15)) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    static readonly byte[] GetRandom8 = Cmd.Of(TpmCc.GetRandom).U16(8).Build();

    /// <summary>
    /// After QEMU shut the TPM down (CMD_SHUTDOWN at exit): the process QEMU talked to exits cleanly and removes
    /// its pid file. Behind a tpmfront, the vtpm keeps running, its TPM is off, and it waits for a new frontend.
    /// </summary>
    static void AssertShutDownByQemu(GuestTpm tpm)
    {
        Assert.IsTrue(tpm.Attached.WaitForExit(TimeSpan.FromSeconds(15)), "the TPM process QEMU used exits after CMD_SHUTDOWN");
        Assert.AreEqual(0, tpm.Attached.ExitCode);
        Assert.IsFalse(File.Exists(tpm.AttachedPidFile), "pid file removed");
        if (tpm.Front is null) return;
        AssertBackendWaitsForAFrontend(tpm);
        Assert.AreEqual(TpmRc.Failure, tpm.Vtpm.Send(GetRandom8).Rc, "CMD_SHUTDOWN powered the vtpm's TPM off through the ring");
    }

    /// <summary>Xenbus: the frontend left, so the backend is back in InitWait; the vtpm lives on and no ring file is left.</summary>
    static void AssertBackendWaitsForAFrontend(GuestTpm tpm)
    {
        WaitUntil(() => tpm.BackendState == "2", "the vtpm's backend back in InitWait");
        Assert.IsFalse(tpm.Vtpm.Process.HasExited, "the vtpm keeps running when its frontend leaves");
        Assert.IsEmpty(tpm.Front!.RingFiles(), "a ring file of the tpmfront was left in /dev/shm");
    }

    /// <summary>
    /// The guest powers off, QEMU exits and sends CMD_SHUTDOWN on its way out; the TPM process it talked to (vtpm,
    /// or the tpmfront) stops and removes its pid file (<see cref="AssertShutDownByQemu"/>).
    /// </summary>
    static void PowerOffGuest(QemuVm vm, GuestTpm tpm)
    {
        vm.SendLine("off");
        vm.WaitFor("GUEST-OFF");
        Assert.IsTrue(vm.WaitForExit(TimeSpan.FromSeconds(30)), "QEMU exits after the guest powers off");
        AssertShutDownByQemu(tpm);
    }

    /// <summary>A tpmfront row ends with the vtpm stopped by SIGTERM: it exits cleanly.</summary>
    static void AssertVtpmStopsCleanly(GuestTpm tpm)
    {
        if (!tpm.ViaRing) return;
        tpm.Vtpm.Terminate();
        Assert.IsTrue(tpm.Vtpm.WaitForExit(TimeSpan.FromSeconds(15)), "vtpm exits on SIGTERM");
        Assert.AreEqual(0, tpm.Vtpm.Process.ExitCode);
    }

    [TestMethod]
    [DataRow("2.0", "tpm-tis", GuestTpm.ViaVtpm)]
    [DataRow("2.0", "tpm-crb", GuestTpm.ViaVtpm)]
    [DataRow("2.0", "tpm-tis", GuestTpm.ViaTpmfront)]
    [DataRow("2.0", "tpm-crb", GuestTpm.ViaTpmfront)]
    public void Boot_GuestDriverUsesTheTpm_AndItsPcrsMatchTheEmulator(string family, string device, string via)
    {
        var sw = Stopwatch.StartNew();
        using var tpm = new GuestTpm(via, _dir, Path.Combine(_dir, "state"), family);
        var vtpm = tpm.Vtpm;
        using var vm = new QemuVm(_dir, "vm", tpm.ControlPath, device);
        try
        {
            string report = vm.WaitFor("WAIT-HOST", BootLimit);
            TestContext.WriteLine($"guest report after {sw.Elapsed.TotalSeconds:F1} s");

            // The kernel's driver probed a TPM of this family.
            Assert.AreEqual(FamilyMajor(family), Single(report, "TPM-FAMILY"), report);

            // All 24 SHA-256 PCRs readable through sysfs and equal to what the same TPM reports now.
            var guest = Lines(report, "PCR-SHA256");
            var host = vtpm.ReadSha256Pcrs();
            for (int i = 0; i < 24; i++)
            {
                Assert.IsTrue(guest.TryGetValue(i.ToString(System.Globalization.CultureInfo.InvariantCulture), out var g), $"PCR {i} missing:\n{report}");
                Assert.AreEqual(64, g.Length, $"PCR {i} unreadable: {g}");
                Assert.AreEqual(host[i], g, $"PCR {i}: guest vs. emulator");
            }
            // SeaBIOS measured into PCR 0; PCRs 17-22 keep their all-ones Startup value (no DRTM).
            Assert.AreNotEqual(new string('0', 64), host[0], "SeaBIOS extended PCR 0");
            for (int i = 17; i <= 22; i++) Assert.AreEqual(new string('F', 64), host[i], $"PCR {i}");

            AssertRandomOk(report, "RAW-TPM0");
            AssertRandomOk(report, "RAW-TPMRM0");

            PowerOffGuest(vm, tpm);
            StringAssert.Contains(tpm.Front?.Output ?? vtpm.Output, "CMD_SET_DATAFD");
            AssertVtpmStopsCleanly(tpm);
            Assert.IsLessThan(120.0, sw.Elapsed.TotalSeconds, "boot test time");
        }
        finally
        {
            Report(vm, tpm);
        }
    }

    /// <summary>PCR 16 after the guest's extend of 01 02 .. 20 from zero.</summary>
    static string ExpectedPcr16()
    {
        var buf = new byte[64];
        for (int i = 0; i < 32; i++) buf[32 + i] = (byte)(i + 1);
        return Convert.ToHexString(SHA256.HashData(buf));
    }

    static void AssertExtendOk(string serial)
    {
        string hex = Single(serial, "EXTEND16");
        Assert.IsTrue(hex.StartsWith("80020000001300000000", StringComparison.Ordinal), $"PCR_Extend reply {hex}");
    }

    [TestMethod]
    [DataRow("2.0", GuestTpm.ViaVtpm)]
    [DataRow("2.0", GuestTpm.ViaTpmfront)]
    public void Migration_ToAFileAndASecondEmptyEmulator_KeepsPcr16AndTheTpmRunning(string family, string via)
    {
        string file = Path.Combine(_dir, "migration.bin");
        string pcr16;
        using (var tpmA = new GuestTpm(via, Path.Combine(_dir, "a"), Path.Combine(_dir, "a", "state"), family))
        using (var vmA = new QemuVm(Path.Combine(_dir, "a"), "vm", tpmA.ControlPath, "tpm-tis"))
        {
            try
            {
                vmA.WaitFor("WAIT-HOST", BootLimit);
                vmA.SendLine("extend");
                AssertExtendOk(vmA.WaitFor("WAIT-HOST"));
                vmA.SendLine("pcr16");
                pcr16 = Single(vmA.WaitFor("WAIT-HOST"), "PCR16");
                Assert.AreEqual(ExpectedPcr16(), pcr16);

                // The guest now blocks in 'read': its state is stable while QEMU migrates to the file.
                vmA.Monitor($"migrate \"exec:cat > {file}\"");
                WaitForMonitor(vmA, "info migrate", "Migration status: completed");
                vmA.Monitor("quit");
                Assert.IsTrue(vmA.WaitForExit(TimeSpan.FromSeconds(30)));
                AssertShutDownByQemu(tpmA);
                // The source's state blobs left through the ring (CMD_GET_STATEBLOB on tpmfront's control channel).
                if (tpmA.ViaRing) StringAssert.Contains(tpmA.Vtpm.Output, "state blob Volatile read");
                AssertVtpmStopsCleanly(tpmA);
            }
            finally
            {
                Report(vmA, tpmA);
            }
        }
        Assert.IsGreaterThan(0L, new FileInfo(file).Length);

        var bDir = Path.Combine(_dir, "b");
        using var tpmB = new GuestTpm(via, bDir, Path.Combine(bDir, "state"), family);
        var vtpmB = tpmB.Vtpm;
        using var vmB = new QemuVm(bDir, "vm", tpmB.ControlPath, "tpm-tis", incoming: $"exec:cat {file}");
        try
        {
            WaitForMonitor(vmB, "info status", "running");
            vmB.SendLine("pcr16");
            var after = vmB.WaitFor("WAIT-HOST", BootLimit);
            Assert.AreEqual(pcr16, Single(after, "PCR16"), "PCR 16 after migration");
            Assert.AreEqual(pcr16, vtpmB.ReadSha256Pcrs()[16], "the destination emulator holds the migrated PCR 16");

            // Still started (no new Startup): GetRandom succeeds through both device nodes.
            vmB.SendLine("random");
            var random = vmB.WaitFor("WAIT-HOST");
            AssertRandomOk(random, "RAW-TPM0");
            AssertRandomOk(random, "RAW-TPMRM0");
            // The destination's state blobs came in through the ring (CMD_SET_STATEBLOB while its TPM was off).
            if (tpmB.ViaRing)
            {
                StringAssert.Contains(vtpmB.Output, "state blob Permanent set");
                StringAssert.Contains(vtpmB.Output, "state blob Volatile set");
            }
            PowerOffGuest(vmB, tpmB);
            AssertVtpmStopsCleanly(tpmB);
        }
        finally
        {
            Report(vmB, tpmB);
        }
    }

    static void WaitForMonitor(QemuVm vm, string command, string expected)
    {
        var sw = Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            last = vm.Monitor(command);
            if (last.Contains(expected, StringComparison.Ordinal)) return;
            if (last.Contains("failed", StringComparison.Ordinal)) break;
            Thread.Sleep(100);
        }
        Assert.Fail($"'{command}' never showed '{expected}'; last answer:\n{last}\nserial:\n{vm.Serial}");
    }

    [TestMethod]
    [DataRow("2.0", GuestTpm.ViaVtpm)]
    [DataRow("2.0", GuestTpm.ViaTpmfront)]
    public void SystemReset_ResetsThePcrs_AndTheTpmStaysUsable(string family, string via)
    {
        using var tpm = new GuestTpm(via, _dir, Path.Combine(_dir, "state"), family);
        var vtpm = tpm.Vtpm;
        using var vm = new QemuVm(_dir, "vm", tpm.ControlPath, "tpm-tis", noReboot: false);
        try
        {
            vm.WaitFor("WAIT-HOST", BootLimit);
            vm.SendLine("extend");
            AssertExtendOk(vm.WaitFor("WAIT-HOST"));
            Assert.AreEqual(ExpectedPcr16(), vtpm.ReadSha256Pcrs()[16]);

            vm.Monitor("system_reset");
            vm.WaitFor("GUEST-BOOTED", BootLimit);
            var report = vm.WaitFor("WAIT-HOST", BootLimit);
            // CMD_INIT is _TPM_Init: SeaBIOS's Startup(CLEAR) was a TPM Reset, so PCR 16 is zero again.
            Assert.AreEqual(new string('0', 64), Lines(report, "PCR-SHA256")["16"], report);
            Assert.AreEqual(new string('0', 64), vtpm.ReadSha256Pcrs()[16]);
            AssertRandomOk(report, "RAW-TPM0");
            AssertRandomOk(report, "RAW-TPMRM0");
            PowerOffGuest(vm, tpm);
            AssertVtpmStopsCleanly(tpm);
        }
        finally
        {
            Report(vm, tpm);
        }
    }

    const uint NvIndex = 0x01500021;

    static Rsp SendRetrying(VtpmInstance v, byte[] command)
    {
        var r = v.Send(command);
        return r.Rc == TpmRc.Retry ? v.Send(command) : r;
    }

    static uint LockoutCounter(VtpmInstance v)
    {
        // GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_LOCKOUT_COUNTER, 1)
        var r = v.Send(Cmd.Of(TpmCc.GetCapability).U32(6).U32(0x20E).U32(1).Build());
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        Assert.AreEqual(0x20Eu, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(9)));
        return BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(13));
    }

    /// <summary>
    /// QEMU is SIGKILLed (no CMD_SHUTDOWN). "vtpm": vtpm (ctrl terminate) sends TPM2_Shutdown itself and exits,
    /// and a new vtpm + QEMU start on the same state. "tpmfront": the tpmfront (ctrl terminate) exits, the vtpm
    /// keeps running and waits for a frontend, and a new tpmfront + QEMU boot against that same vtpm. Either way
    /// NV written before the kill is there and the lockout counter is 0 (the next CMD_INIT shut down in order).
    /// </summary>
    [TestMethod]
    [DataRow("2.0", GuestTpm.ViaVtpm)]
    [DataRow("2.0", GuestTpm.ViaTpmfront)]
    public void QemuKilled_ThenRestartedOnTheSameState_KeepsNvAndIsNotLockedOut(string family, string via)
    {
        string state = Path.Combine(_dir, "state");
        byte[] data = [0x51, 0x45, 0x4D, 0x55, 1, 2, 3, 4];
        var tpm = new GuestTpm(via, Path.Combine(_dir, "1"), state, family, terminate: true);
        try
        {
            using (var vm = new QemuVm(Path.Combine(_dir, "1"), "vm", tpm.ControlPath, "tpm-tis"))
            {
                try
                {
                    vm.WaitFor("WAIT-HOST", BootLimit);
                    Assert.AreEqual(TpmRc.Success, SendRetrying(tpm.Vtpm, NvCmd.Define(NvIndex, NvCmd.OwnerRw, (ushort)data.Length).Build()).Rc);
                    Assert.AreEqual(TpmRc.Success, SendRetrying(tpm.Vtpm, NvCmd.Write(data, index: NvIndex).Build()).Rc);
                    vm.Process.Kill(); // SIGKILL: no CMD_SHUTDOWN, the control connection just drops
                    vm.Process.WaitForExit();
                    // ctrl ...,terminate: the process QEMU talked to notices and exits (vtpm sends TPM2_Shutdown itself).
                    Assert.IsTrue(tpm.Attached.WaitForExit(TimeSpan.FromSeconds(15)), "the TPM process (terminate) exits when QEMU goes away");
                    Assert.AreEqual(0, tpm.Attached.ExitCode);
                    if (tpm.ViaRing) AssertBackendWaitsForAFrontend(tpm);
                }
                finally
                {
                    Report(vm, tpm);
                }
            }
            if (tpm.ViaRing)
            {
                tpm.ReplaceFront(Path.Combine(_dir, "2"), terminate: true);
            }
            else
            {
                tpm.Dispose();
                tpm = new GuestTpm(via, Path.Combine(_dir, "2"), state, family, terminate: true);
            }
            using var vm2 = new QemuVm(Path.Combine(_dir, "2"), "vm", tpm.ControlPath, "tpm-tis");
            try
            {
                var report = vm2.WaitFor("WAIT-HOST", BootLimit);
                AssertRandomOk(report, "RAW-TPM0");
                Assert.AreEqual(0u, LockoutCounter(tpm.Vtpm), "no failed-tries count from the kill");
                CollectionAssert.AreEqual(data, NvCmd.Data(SendRetrying(tpm.Vtpm, NvCmd.Read((ushort)data.Length, index: NvIndex).Build())));
                PowerOffGuest(vm2, tpm);
                AssertVtpmStopsCleanly(tpm);
            }
            finally
            {
                Report(vm2, tpm);
            }
        }
        finally
        {
            tpm.Dispose();
        }
    }
}
