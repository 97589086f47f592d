using Microsoft.Extensions.Logging;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

/// <summary>Collects log lines.</summary>
public sealed class ListLogger : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add(formatter(state, exception));
    }
}

[TestClass]
public sealed class TpmHostTests
{
    static byte[] Startup => Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build();

    [TestMethod]
    public void Trace_NamesTheCommandTheResponseCodeAndTheTime()
    {
        var log = new ListLogger();
        using var host = new TpmHost(new MemoryStateStore(), log) { Trace = true };
        host.Init();
        host.Execute(Startup, 0);
        host.Execute(Cmd.Of(TpmCc.GetRandom).U16(4).Build(), 2);
        var line = log.Lines.Single(l => l.Contains("TPM2_GetRandom", StringComparison.Ordinal));
        StringAssert.Contains(line, "TPM_RC_SUCCESS");
        StringAssert.Contains(line, "loc=2");
        StringAssert.Matches(line, new System.Text.RegularExpressions.Regex(@"\d+ us$"));
    }

    [TestMethod]
    public void Describe_ListsTheHandlesOfKnownCommands()
    {
        var cmd = Cmd.Of(TpmCc.Shutdown).U16(0).Build();
        Assert.AreEqual("TPM2_Shutdown loc=0 -> TPM_RC_SUCCESS 5 us", TpmHost.Describe(cmd, 0, TpmRc.Success, 5));
        StringAssert.StartsWith(TpmHost.Describe([0x80, 0x01, 0, 0, 0, 10, 0xde, 0xad, 0xbe, 0xef], 0, TpmRc.CommandCode, 1), "0xdeadbeef");
        StringAssert.StartsWith(TpmHost.Describe([1, 2], 0, TpmRc.CommandSize, 1), "(short frame");
    }

    [TestMethod]
    public void AutoShutdown_SendsShutdownClearOnceBeforeReset()
    {
        var log = new ListLogger();
        using var host = new TpmHost(new MemoryStateStore(), log) { Trace = true };
        host.Init();
        host.Execute(Startup, 0);
        host.Init();
        host.Init(); // not started: nothing to shut down
        Assert.AreEqual(1, log.Lines.Count(l => l.StartsWith("TPM2_Shutdown", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void AutoShutdown_IsSkippedAfterTheOsShutDown()
    {
        var log = new ListLogger();
        using var host = new TpmHost(new MemoryStateStore(), log) { Trace = true };
        host.Init();
        host.Execute(Startup, 0);
        Assert.AreEqual(TpmRc.Success, new Rsp(host.Execute(Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State).Build(), 0), false).Rc);
        host.PowerOff(autoShutdown: true);
        Assert.AreEqual(1, log.Lines.Count(l => l.StartsWith("TPM2_Shutdown", StringComparison.Ordinal)), "Shutdown(STATE) must not be overwritten by Shutdown(CLEAR)");
    }

    [TestMethod]
    public void AutoShutdown_Disabled_SendsNothing()
    {
        var log = new ListLogger();
        using var host = new TpmHost(new MemoryStateStore(), log) { Trace = true, AutoShutdown = false };
        host.Init();
        host.Execute(Startup, 0);
        host.PowerOff(autoShutdown: true);
        Assert.AreEqual(0, log.Lines.Count(l => l.StartsWith("TPM2_Shutdown", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void StartupFlag_SendsStartupAfterInit()
    {
        using var host = new TpmHost(new MemoryStateStore(), new ListLogger()) { StartupFlag = StartupFlag.Clear };
        host.Init();
        Assert.IsTrue(host.Engine.IsStarted);
    }

    [TestMethod]
    public void Init_WithTamperedPermall_NamesTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("vtpm-host-").FullName;
        try
        {
            using (var host = new TpmHost(new DirectoryStateStore(dir), new ListLogger())) host.Init();
            var path = Path.Combine(dir, "tpm2-00.permall");
            var raw = File.ReadAllBytes(path);
            raw[raw.Length / 2] ^= 1;
            File.WriteAllBytes(path, raw);
            using var again = new TpmHost(new DirectoryStateStore(dir), new ListLogger());
            var e = Assert.ThrowsExactly<StateCorruptException>(() => again.Init());
            StringAssert.Contains(e.Message, path);
            CollectionAssert.AreEqual(raw, File.ReadAllBytes(path), "a corrupt state is never reset");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
