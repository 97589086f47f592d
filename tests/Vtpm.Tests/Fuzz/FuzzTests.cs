using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Vtpm.Tests.Support;
using Vtpm.Tests.Support.Processes;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Fuzz;

/// <summary>
/// At least 10,000 malformed commands (<see cref="MalformedCommands"/>, fixed seed) against the engine in
/// process and against a server over a socket: every one gets a well-formed TPM error response or a clean
/// disconnect, nothing crashes or hangs, and a well-formed command afterwards still works.
/// </summary>
[TestClass]
public sealed class FuzzTests
{
    const int Seed = 20261123;
    const int SocketCases = 10_000;

    public static IEnumerable<object[]> SocketTargets => TpmTarget.All.Select(t => new object[] { t });

    [TestMethod]
    public void EngineAnswersEveryMalformedCommandWithAnError()
    {
        var host = new EngineHost();
        var response = new byte[4096];
        var failures = new StringBuilder();
        int count = 0;
        foreach (var c in MalformedCommands.Generate(Seed, 20_000))
        {
            count++;
            string? why;
            try
            {
                int n = host.Tpm.Execute(c.Bytes, response, new CommandContext(0));
                why = MalformedCommands.Judge(c with { MustFail = c.MustFail || c.FrameBroken }, response.AsSpan(0, n));
            }
            catch (Exception e)
            {
                why = "threw " + e.GetType().Name + ": " + e.Message;
            }
            if (why is not null && failures.Length < 8000) failures.AppendLine($"{c}\n   -> {why}");
        }
        Assert.AreEqual(20_000, count);
        Assert.AreEqual(0, failures.Length, "in-process engine:\n" + failures);
        var ok = host.Send(Cmd.Of(TpmCc.GetRandom).U16(8));
        Assert.AreEqual(TpmRc.Success, ok.Rc);
        Assert.AreEqual(10, ok.Parameters.Length);
    }

    [TestMethod]
    [DynamicData(nameof(SocketTargets))]
    public void ServerAnswersOrDisconnectsOnEveryMalformedCommand(string target)
    {
        var t = TpmTarget.Parse(target);
        using var server = TpmServer.Start(t, startupClear: t.Protocol == TpmProtocol.Swtpm);
        server.PowerOnIfSimulator();
        if (t.Protocol == TpmProtocol.Mssim)
            Assert.AreEqual(0u, RcOf(server.Transact(Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear).Build())));

        var failures = new StringBuilder();
        var sw = Stopwatch.StartNew();
        int responses = 0, disconnects = 0;
        RawTpmClient? client = null;
        try
        {
            foreach (var c in MalformedCommands.Generate(Seed, SocketCases))
            {
                if (server.Process.HasExited)
                    Assert.Fail($"{target} died (exit code {server.Process.ExitCode}) after {c}\n{server.Output}");
                client ??= server.Connect(TimeSpan.FromSeconds(5));
                bool streamBroken = c.FrameBroken && t.Protocol == TpmProtocol.Swtpm;
                try
                {
                    client.SendFrame(c.Bytes);
                    if (streamBroken)
                    {
                        // The server may legitimately wait for the rest of a frame: end our side and
                        // collect whatever it answers until it closes.
                        client.ShutdownSend();
                        while (true)
                        {
                            var r = client.ReceiveResponse();
                            responses++;
                            var why = MalformedCommands.Judge(c, r);
                            if (why is not null) failures.AppendLine($"{c}\n   -> {why}");
                        }
                    }
                    var response = client.ReceiveResponse();
                    responses++;
                    var verdict = MalformedCommands.Judge(c, response);
                    if (verdict is not null) failures.AppendLine($"{c}\n   -> {verdict}");
                }
                catch (TpmDisconnectedException)
                {
                    disconnects++;
                    client.Dispose();
                    client = null;
                }
                catch (TimeoutException e)
                {
                    Assert.Fail($"{target} hung on {c}: {e.Message}\n{server.Output}");
                }
                catch (InvalidDataException e)
                {
                    failures.AppendLine($"{c}\n   -> unframed reply: {e.Message}");
                    client.Dispose();
                    client = null;
                }
                if (failures.Length > 8000) break;

                if (c.Number % 1000 == 999 && t.Protocol == TpmProtocol.Mssim)
                {
                    // Simulator-level garbage: an unknown command and an absurd frame length; must end in a
                    // disconnect or an answer, not a hang.
                    client?.Dispose();
                    client = null;
                    foreach (var junk in new[] { new byte[] { 0, 0, 0, 0x63 }, new byte[] { 0, 0, 0, 8, 0, 0x7F, 0xFF, 0xFF, 0xFF } })
                    {
                        using var raw = server.Connect(TimeSpan.FromSeconds(5));
                        try
                        {
                            raw.SendRaw(junk);
                            raw.ShutdownSend();
                            while (true) raw.ReceiveResponse();
                        }
                        catch (TpmDisconnectedException) { }
                        catch (InvalidDataException) { }
                        catch (TimeoutException) { Assert.Fail($"{target} hung on simulator frame {Convert.ToHexString(junk)}"); }
                    }
                }
            }
        }
        finally
        {
            client?.Dispose();
        }
        Assert.AreEqual(0, failures.Length, $"{target}:\n{failures}");
        Assert.IsFalse(server.Process.HasExited, $"{target} exited:\n{server.Output}");
        Assert.IsTrue(responses + disconnects >= SocketCases, $"{responses} responses + {disconnects} disconnects for {SocketCases} cases");

        // Still serving: a well-formed command on a new connection.
        var ok = server.Transact(Cmd.Of(TpmCc.GetRandom).U16(8).Build());
        Assert.AreEqual(0u, RcOf(ok), Convert.ToHexString(ok));
        Assert.AreEqual(20, ok.Length);
        Console.WriteLine($"{target}: {SocketCases} cases, {responses} responses, {disconnects} disconnects, {sw.Elapsed.TotalSeconds:F1} s");
    }

    static uint RcOf(byte[] r) => r.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(6)) : uint.MaxValue;
}
