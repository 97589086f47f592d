using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tpm2.State;

namespace Vtpm.Tests.Host;

/// <summary>The real tpm2-tools (Debian's tpm2-tools, installed by ./build.sh test) against in-process servers.</summary>
[TestClass]
public sealed class TctiInteropTests
{
    public TestContext TestContext { get; set; } = null!;

    async Task<(int ExitCode, string Output)> RunToolAsync(string tool, string tcti, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-T");
        psi.ArgumentList.Add(tcti);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.CancellationToken);
        await p.WaitForExitAsync(TestContext.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.CancellationToken);
        return (p.ExitCode, await stdout + await stderr);
    }

    [TestMethod]
    public async Task Tpm2Startup_OverTheMssimTcti_StartsTheTpm()
    {
        using var host = new TpmHost(new MemoryStateStore(), NullLogger.Instance);
        await using var server = new MssimServer(new EndpointOptions("127.0.0.1", 0, null), NullLogger.Instance);
        server.Start(host);
        var (rc, output) = await RunToolAsync("tpm2_startup", $"mssim:host=127.0.0.1,port={server.Port}", "-c");
        Assert.AreEqual(0, rc, output);
        Assert.IsTrue(host.Engine.IsStarted, "the TCTI's POWER_ON reached _TPM_Init and the Startup succeeded");
        host.RequestStop("test over");
    }

    [TestMethod]
    public async Task Tpm2Startup_OverTheSwtpmTcti_StartsTheTpm()
    {
        using var host = new TpmHost(new MemoryStateStore(), NullLogger.Instance);
        host.Init(autoShutdown: false); // --flags not-need-init
        var o = new HostOptions
        {
            Mode = HostMode.Socket,
            Server = new EndpointOptions("127.0.0.1", 0, null),
        };
        // The swtpm TCTI uses data port + 1 for control: bind the data port, then the control port next to it.
        await using var server = BindPair(host, o);
        var (rc, output) = await RunToolAsync("tpm2_startup", $"swtpm:host=127.0.0.1,port={server.Data!.Port}", "-c");
        Assert.AreEqual(0, rc, output);
        Assert.IsTrue(host.Engine.IsStarted);
        host.RequestStop("test over");
    }

    static SwtpmServer BindPair(TpmHost host, HostOptions o)
    {
        for (int attempt = 0; ; attempt++)
        {
            int port;
            using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            }
            o.Server = new EndpointOptions("127.0.0.1", port, null);
            o.Control = new EndpointOptions("127.0.0.1", port + 1, null);
            try
            {
                var s = new SwtpmServer(o, NullLogger.Instance);
                s.Start(host);
                return s;
            }
            catch (ListenerException) when (attempt < 20)
            {
                // Another process took port + 1 meanwhile: try another pair.
            }
        }
    }
}
