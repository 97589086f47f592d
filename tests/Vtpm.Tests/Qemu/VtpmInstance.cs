using System.Buffers.Binary;
using System.Diagnostics;
using Vtpm.Tests.Host;
using Vtpm.Tests.Support;
using Vtpm.Tests.Support.Processes;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// A <c>vtpm socket</c> process as a QEMU user runs it: <c>--ctrl type=unixio,path=…</c> (QEMU hands the
/// data channel over with CMD_SET_DATAFD), a pid file, and — for the test's own eyes — a second data
/// channel on a Unix socket (<c>--server type=unixio</c>) so the host can read the PCRs of the same running
/// TPM while the guest is still up. With a rendezvous store it is instead a vTPM served over a tpmif ring
/// (<c>--tpmback store=…,name=…</c>, no control channel of its own): QEMU reaches it through a tpmfront.
/// </summary>
public sealed class VtpmInstance : IDisposable
{
    readonly ChildProcess _child;

    public string Dir { get; }
    public string StateDir { get; }
    public string ControlPath => Path.Combine(Dir, "ctrl.sock");
    public string DataPath => Path.Combine(Dir, "data.sock");
    public string PidFile => Path.Combine(Dir, "vtpm.pid");
    public Process Process => _child.Process;

    public string Output => _child.Output;

    /// <summary>The rendezvous store of a --tpmback instance (null otherwise).</summary>
    public string? Store { get; }

    public VtpmInstance(string dir, string stateDir, string family, bool terminate = false, string? tpmbackStore = null)
    {
        Store = tpmbackStore;
        Dir = dir;
        StateDir = stateDir;
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(stateDir);
        string[] args =
        [
            "socket",
            .. family == "2.0" ? ["--tpm2"] : Array.Empty<string>(),
            "--tpmstate", $"dir={stateDir}",
            .. tpmbackStore is null
                ? ["--ctrl", $"type=unixio,path={ControlPath}" + (terminate ? ",terminate" : "")]
                : new[] { "--tpmback", $"store={tpmbackStore},name={TpmServer.TpmfrontDevice}" },
            "--server", $"type=unixio,path={DataPath}",
            "--pid", $"file={PidFile}",
            "--log", "level=2",
        ];
        _child = new ChildProcess(Executables.Vtpm(), args);
        // The pid file is written once both sockets listen.
        var sw = Stopwatch.StartNew();
        while (!File.Exists(PidFile))
        {
            if (Process.HasExited) throw new InvalidOperationException($"vtpm exited with {Process.ExitCode} before listening:\n{Output}");
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"vtpm did not write its pid file:\n{Output}");
            Thread.Sleep(20);
        }
        Assert.AreEqual(Process.Id, int.Parse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture), "pid file content");
    }

    /// <summary>Sends one command on the side data channel.</summary>
    public Rsp Send(byte[] command, bool hasHandle = false)
    {
        using var c = SocketClient.Unix(DataPath);
        return new Rsp(c.Send(command).ReadTpmResponse(), hasHandle);
    }

    /// <summary>The SHA-256 bank as TPM2_PCR_Read reports it (8 PCRs per call: TPML_DIGEST holds at most 8).</summary>
    public string[] ReadSha256Pcrs()
    {
        var values = new string[24];
        for (int first = 0; first < 24; first += 8)
        {
            var r = Send(Cmd.Of(TpmCc.PcrRead).PcrSelection(TpmAlgId.Sha256, [.. Enumerable.Range(first, 8)]).Build());
            Assert.AreEqual(TpmRc.Success, r.Rc, "PCR_Read on the side channel");
            var p = r.Parameters;
            // pcrUpdateCounter, TPML_PCR_SELECTION (4 + 2 + 1 + 3), TPML_DIGEST count, then TPM2B_DIGESTs.
            int off = 4 + 10;
            uint count = BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(off));
            Assert.AreEqual(8u, count);
            off += 4;
            for (int i = 0; i < 8; i++)
            {
                int n = BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(off));
                values[first + i] = Convert.ToHexString(p, off + 2, n);
                off += 2 + n;
            }
        }
        return values;
    }

    /// <summary>SIGTERM, as systemd or libvirt stop an emulator.</summary>
    public void Terminate() => Assert.IsTrue(_child.Signal(15), "SIGTERM not delivered");

    /// <summary>Waits for the process to exit by itself.</summary>
    public bool WaitForExit(TimeSpan timeout) => _child.WaitForExit(timeout);

    public void Dispose() => _child.Dispose();
}
