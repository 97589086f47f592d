using Vtpm.Emulator;
using Vtpm.Emulator.Options;

namespace Vtpm.Tests.Host;

[TestClass]
public sealed class ProgramTests
{
    string _dir = "";

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-prog-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    HostOptions Mssim(bool printTcti = true) => new()
    {
        Mode = HostMode.Mssim,
        StateDir = Path.Combine(_dir, "state"),
        Server = new EndpointOptions("127.0.0.1", 0, null),
        PrintTcti = printTcti,
        LogFile = "-",
        PidFile = Path.Combine(_dir, "vtpm.pid"),
    };

    [TestMethod]
    public async Task Run_PrintsTheTctiLineAndWritesThePidFile_ThenStopsOnCancel()
    {
        var stdout = new StringWriter();
        using var cts = new CancellationTokenSource();
        var run = Program.RunAsync(Mssim(), daemonChild: false, stdout, cts.Token);
        Assert.IsTrue(SpinWait.SpinUntil(() => stdout.ToString().Contains('\n'), 10_000), "no TCTI line");
        StringAssert.Matches(stdout.ToString(), new System.Text.RegularExpressions.Regex(@"^TPM2TOOLS_TCTI=mssim:host=127\.0\.0\.1,port=\d+\n$"));
        Assert.AreEqual(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(_dir, "vtpm.pid")).Trim());
        await cts.CancelAsync();
        Assert.AreEqual(0, await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.CancellationToken));
        Assert.IsFalse(File.Exists(Path.Combine(_dir, "vtpm.pid")));
    }

    [TestMethod]
    public async Task Run_WithCorruptState_ExitsWith1AndLeavesTheFile()
    {
        var stdout = new StringWriter();
        using (var cts = new CancellationTokenSource())
        {
            var run = Program.RunAsync(Mssim(), false, stdout, cts.Token);
            Assert.IsTrue(SpinWait.SpinUntil(() => stdout.ToString().Length > 0, 10_000));
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.CancellationToken);
        }
        string permall = Path.Combine(_dir, "state", "tpm2-00.permall");
        var raw = File.ReadAllBytes(permall);
        raw[^3] ^= 0x10;
        File.WriteAllBytes(permall, raw);
        var second = new StringWriter();
        Assert.AreEqual(1, await Program.RunAsync(Mssim(), false, second, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), TestContext.CancellationToken));
        Assert.AreEqual("", second.ToString(), "no TCTI line for a refused state");
        CollectionAssert.AreEqual(raw, File.ReadAllBytes(permall));
    }

    [TestMethod]
    public async Task Run_WithALockedStateDirectory_ExitsWith1()
    {
        using var holder = new Vtpm.Tpm2.State.DirectoryStateStore(Path.Combine(_dir, "state"));
        Assert.AreEqual(1, await Program.RunAsync(Mssim(), false, new StringWriter(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), TestContext.CancellationToken));
    }
}
