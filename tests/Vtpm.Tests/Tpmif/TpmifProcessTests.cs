using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Vtpm.Frontend;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Tpmif;

/// <summary>
/// vtpm --tpmback and tpmfront as separate processes: SIGKILL either side and the other survives, answers
/// errors rather than hanging, reconnects, and leaves no ring behind: no mapping or descriptor in the survivor
/// (rings are sealed memfds, see <see cref="SharedRing"/>) and nothing in /dev/shm.
/// </summary>
[TestClass]
public sealed class TpmifProcessTests
{
    static readonly byte[] StartupClear = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
    static readonly byte[] GetRandom8 = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

    static uint Rc(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    static void WaitFor(Func<bool> condition, string what, int ms = 15_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > ms) Assert.Fail($"timed out after {ms} ms waiting for {what}");
            Thread.Sleep(20);
        }
    }

    static bool Listening(int port)
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            s.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    static string[] RingFiles(int pid) =>
        Directory.GetFiles(SharedRing.ShmDirectory, $"{SharedRing.FilePrefix}{TpmServer.TpmfrontDevice}-{pid.ToString(CultureInfo.InvariantCulture)}-*");

    /// <summary>
    /// The MS simulator answers a command sent while it is powered off with an empty response; through tpmfront
    /// the power line is the vtpm's, behind the ring (tpmfront asks it only after a TPM_RC_FAILURE answer).
    /// </summary>
    [TestMethod]
    public void MssimCommandsWhileTheVtpmIsPoweredOffGetEmptyResponsesThroughTpmfront()
    {
        using var s = TpmServer.Start("tpmfront-mssim");
        using var c = s.Connect(TimeSpan.FromSeconds(10));
        Assert.IsEmpty(c.Transact(StartupClear), "powered off at start");
        s.PowerOnIfSimulator();
        Assert.AreEqual(0u, Rc(c.Transact(StartupClear)));
        Assert.AreEqual(0u, Rc(c.Transact(GetRandom8)));
        PlatformChannel.MssimSignals(s.ControlPort, PlatformChannel.PowerOff);
        Assert.IsEmpty(c.Transact(GetRandom8), "powered off again");
        s.PowerOnIfSimulator();
        Assert.AreEqual(0x100u, Rc(c.Transact(GetRandom8)), "TPM_RC_INITIALIZE: powered on, no Startup yet");
    }

    [TestMethod]
    public void KilledVtpmGivesClientErrorsNotAHangAndTheStreamResumesAfterRestart()
    {
        using var s = TpmServer.Start("tpmfront-mssim");
        s.PowerOnIfSimulator();
        using var c = s.Connect(TimeSpan.FromSeconds(10));
        Assert.AreEqual(0u, Rc(c.Transact(StartupClear)));

        // A stream of commands; SIGKILL the vtpm in the middle of it.
        var rcs = new List<(uint Rc, long Ms)>();
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                uint rc = Rc(c.Transact(GetRandom8));
                lock (rcs) rcs.Add((rc, sw.ElapsedMilliseconds));
                if (rc != 0) Thread.Sleep(20);
            }
        });
        WaitFor(() => { lock (rcs) return rcs.Count >= 50; }, "50 commands before the kill");
        var killed = s.Companion!;
        killed.Kill();
        killed.WaitForExit();
        WaitFor(() => { lock (rcs) return rcs.Count(r => r.Rc != 0) >= 5; }, "errors after the kill");
        stop.Cancel();
        Assert.IsTrue(stream.Wait(TimeSpan.FromSeconds(10)), "the command stream hung");
        lock (rcs)
        {
            Assert.IsTrue(rcs.Take(50).All(r => r.Rc == 0), "commands failed before the kill");
            var errors = rcs.Where(r => r.Rc != 0).ToList();
            Assert.IsTrue(errors.All(r => r.Rc == 0x101), "errors other than TPM_RC_FAILURE: " + string.Join(",", errors.Select(e => e.Rc.ToString("x"))));
            Assert.IsLessThan(2000, rcs.Max(r => r.Ms), "a command took too long");
        }
        Assert.IsEmpty(RingFiles(s.Process.Id), "a ring file was left in /dev/shm");
        // tpmfront dropped the dead backend's ring: no mapping, no descriptor.
        WaitFor(() => RingTrace.Mappings(s.Process.Id).Length == 0, "tpmfront to unmap the dead backend's ring");
        Assert.IsEmpty(RingTrace.Descriptors(s.Process.Id));

        // Restart the vtpm on the same state: the ring reconnects and the same client connection carries on.
        using var restarted = RingBackend.In(s.StateDir);
        WaitFor(() => TpmServer.RingConnected(s.RendezvousStore), "the ring to reconnect");
        s.PowerOnIfSimulator();
        Assert.AreEqual(0u, Rc(c.Transact(StartupClear)));
        var rsp = c.Transact(GetRandom8);
        Assert.AreEqual(0u, Rc(rsp));
        Assert.HasCount(20, rsp); // header + u16 size + 8 bytes
    }

    /// <summary>Starts a tpmfront on device <see cref="TpmServer.TpmfrontDevice"/> of <paramref name="store"/>.</summary>
    static ChildProcess StartTpmfront(string store, params string[] endpoint) =>
        new(TpmfrontExecutable.Path(), ["--store", store, "--name", TpmServer.TpmfrontDevice, .. endpoint]);

    [TestMethod]
    public void KilledTpmfrontReturnsVtpmToWaitingAndANewFrontendIsServed()
    {
        using var s = TpmServer.Start("tpmfront-mssim");
        s.PowerOnIfSimulator();
        using (var c = s.Connect(TimeSpan.FromSeconds(10)))
        {
            Assert.AreEqual(0u, Rc(c.Transact(StartupClear)));
            Assert.AreEqual(0u, Rc(c.Transact(GetRandom8)));
        }
        int killedPid = s.Process.Id;
        s.Kill();
        // Xenbus: frontend gone → backend Closing → Closed → InitWait, waiting for the next frontend.
        WaitFor(() => TpmServer.ReadKey(s.RendezvousStore, "backend", "state") == "2", "backend InitWait");
        Assert.IsFalse(s.Companion!.HasExited, "vtpm exited with its frontend");
        Assert.IsEmpty(RingFiles(killedPid), "the killed frontend's ring file was left in /dev/shm");
        Assert.IsEmpty(RingTrace.Mappings(s.Companion.Id), "vtpm still maps the killed frontend's ring");
        Assert.IsEmpty(RingTrace.Descriptors(s.Companion.Id), "vtpm still holds a descriptor of the killed frontend's ring");

        int port = TpmServer.FreePortPair();
        using var front = StartTpmfront(s.RendezvousStore, "mssim", "--port", port.ToString(CultureInfo.InvariantCulture));
        WaitFor(() => TpmServer.RingConnected(s.RendezvousStore), "the new frontend to connect");
        using var c2 = new RawTpmClient(port, TpmProtocol.Mssim, TimeSpan.FromSeconds(10));
        // The vTPM kept running: no power-on or Startup needed.
        Assert.AreEqual(0u, Rc(c2.Transact(GetRandom8)), front.Output);
    }

    [TestMethod]
    public void CleanStopOfBothSidesLeavesNoSharedMemoryFiles()
    {
        string dir = Directory.CreateTempSubdirectory("tpmif-clean-").FullName;
        try
        {
            var s = TpmServer.Start(TpmTarget.Parse("tpmfront-mssim"), dir);
            int pid = s.Process.Id;
            string store = s.RendezvousStore;
            s.PowerOnIfSimulator();
            s.Dispose(); // SIGTERM tpmfront, then SIGTERM vtpm
            Assert.IsEmpty(RingFiles(pid));
            Assert.IsFalse(Directory.Exists(Path.Combine(store, TpmServer.TpmfrontDevice, "frontend")), "frontend keys left behind");
            Assert.IsFalse(Directory.Exists(Path.Combine(store, TpmServer.TpmfrontDevice, "backend")), "backend keys left behind");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void SwtpmFlavourCarriesControlChannelAndLocalityThroughTheRing()
    {
        var vtpm = RingBackend.InNewDirectory("tpmif-swtpm-");
        string store = Path.Combine(vtpm.Directory, "rendezvous");
        int port = TpmServer.FreePortPair();
        var front = StartTpmfront(store, "--server", $"type=tcp,port={port}", "--ctrl", $"type=tcp,port={port + 1}");
        var work = Directory.CreateTempSubdirectory("tpmif-swtpm-work-").FullName;
        try
        {
            WaitFor(() => TpmServer.RingConnected(store), "the ring to connect");
            // tpmfront may connect its ring before its listeners are up.
            WaitFor(() => Listening(port) && Listening(port + 1), "tpmfront's data and control channels");
            // CMD_INIT on tpmfront's control channel reaches the vtpm as a platform command (it starts powered off).
            PlatformChannel.SwtpmInit(port + 1);
            // The swtpm TCTI sets locality 0 through CMD_SET_LOCALITY; tpmif carries it in the page.
            var tools = new Tpm2Tools($"swtpm:host=127.0.0.1,port={port}", work);
            tools.Run("tpm2_startup", "-c");
            Assert.AreEqual(16, tools.Run("tpm2_getrandom", "--hex", "8").Stdout.Trim().Length);
            tools.Run("tpm2_pcrextend", "16:sha256=" + new string('0', 63) + "1");
            StringAssert.Contains(tools.Run("tpm2_pcrread", "sha256:16").Stdout, "0x90F4B39548DF55AD6187A1D20D731ECEE78C545B94AFD16F42EF7592D99CD365");
            // A client cannot send the frontend's in-band platform command code itself.
            using var raw = new RawTpmClient(port, TpmProtocol.Swtpm);
            Assert.AreEqual(0x143u, Rc(raw.Transact(RingPlatform.Build(PlatformSignal.PowerOff))));
            Assert.AreEqual(0u, Rc(raw.Transact(GetRandom8)));
        }
        finally
        {
            front.Dispose();
            vtpm.Dispose();
            Directory.Delete(work, recursive: true);
        }
    }
}
