using System.Globalization;
using System.Text.RegularExpressions;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Interop;

/// <summary>
/// One fresh TPM server plus a tpm2-tools runner and a scratch directory for an interop test.
/// Every test gets its own server and state directory so tests are independent (and NV counters start
/// from a fresh TPM, ECOSYSTEM §5).
/// </summary>
public sealed partial class InteropTpm : IDisposable
{
    /// <summary>
    /// The data rows: vtpm over both TCTIs, swtpm over its own TCTI as the reference, and vtpm reached through
    /// tpmfront and a tpmif ring (mssim TCTI → tpmfront → ring → vtpm --tpmback).
    /// </summary>
    public static IEnumerable<object[]> Targets => TpmTarget.All.Append("tpmfront-mssim").Select(t => new object[] { t });

    public TpmServer Server { get; }
    public Tpm2Tools Tools { get; }
    public string WorkDir { get; }

    InteropTpm(TpmServer server, string workDir)
    {
        Server = server;
        WorkDir = workDir;
        Tools = new Tpm2Tools(server.Tcti, workDir);
    }

    /// <summary>Starts a server for <paramref name="target"/> and, unless told not to, runs tpm2_startup -c.</summary>
    public static InteropTpm Start(string target, bool startup = true)
    {
        // Developer aid only: VTPM_INTEROP_TARGETS=swtpm-swtpm runs just the oracle rows. CI never sets it,
        // so an absent or broken vtpm fails these tests.
        var only = Environment.GetEnvironmentVariable("VTPM_INTEROP_TARGETS");
        if (!string.IsNullOrEmpty(only) && !only.Split(',').Contains(target))
            Assert.Inconclusive($"{target} excluded by VTPM_INTEROP_TARGETS={only}");
        var server = TpmServer.Start(target);
        var work = Directory.CreateTempSubdirectory("vtpm-interop-").FullName;
        var t = new InteropTpm(server, work);
        if (startup)
        {
            try
            {
                t.Tools.Run("tpm2_startup", "-c");
            }
            catch
            {
                t.Dispose();
                throw;
            }
        }
        return t;
    }

    /// <summary>Writes a file in the working directory and returns its path.</summary>
    public string File(string name, byte[] content)
    {
        var p = Path.Combine(WorkDir, name);
        System.IO.File.WriteAllBytes(p, content);
        return p;
    }

    public string PathOf(string name) => Path.Combine(WorkDir, name);

    public byte[] Read(string name) => System.IO.File.ReadAllBytes(Path.Combine(WorkDir, name));

    public ToolResult Run(string tool, params string[] args) => WithServerOutput(() => Tools.Run(tool, args));

    public ToolResult Fail(string tool, params string[] args) => WithServerOutput(() => Tools.Fail(tool, args));

    /// <summary>Adds what the server printed (and whether it is still alive) to a tool failure.</summary>
    ToolResult WithServerOutput(Func<ToolResult> run)
    {
        try
        {
            return run();
        }
        catch (ToolFailedException e)
        {
            string state = Server.Process.HasExited ? $"server EXITED with code {Server.Process.ExitCode}" : "server still running";
            throw new ToolFailedException(e.Result, $"{e.Message.Split('\n')[0]} ({Server.Target}, {state}); server output:\n{Server.Output}\n---");
        }
    }

    /// <summary>Power cycle (_TPM_Init) through the transport, then tpm2_startup -c.</summary>
    public void Reboot()
    {
        Server.PowerCycle();
        Run("tpm2_startup", "-c");
    }

    /// <summary>One PCR's value from tpm2_pcrread's YAML ("  sha256:\n    16: 0x…").</summary>
    public byte[] PcrValue(string bank, int index)
    {
        var output = Run("tpm2_pcrread", $"{bank}:{index}").Stdout;
        var m = Regex.Match(output, $@"^\s*{index}\s*:\s*0x([0-9A-Fa-f]+)\s*$", RegexOptions.Multiline);
        Assert.IsTrue(m.Success, $"PCR {bank}:{index} not in tpm2_pcrread output:\n{output}");
        return Convert.FromHexString(m.Groups[1].Value);
    }

    /// <summary>A "KEY: value" line's value (first match), e.g. "TPM2_PT_MAX_AUTH_FAIL: 0x7" or "  clock: 652".</summary>
    public static string Field(string yaml, string key)
    {
        var m = Regex.Match(yaml, $@"^\s*{Regex.Escape(key)}:\s*(.*?)\s*$", RegexOptions.Multiline);
        Assert.IsTrue(m.Success, $"'{key}' not found in:\n{yaml}");
        return m.Groups[1].Value;
    }

    /// <summary>A numeric field in decimal or 0x-hex.</summary>
    public static ulong Number(string yaml, string key)
    {
        var v = Field(yaml, key);
        return v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(v, CultureInfo.InvariantCulture);
    }

    /// <summary>The handles listed by a tpm2_getcap handles-* group ("- 0x1500016").</summary>
    public List<uint> Handles(string group)
    {
        var output = Run("tpm2_getcap", group).Stdout;
        return [.. Regex.Matches(output, @"^\s*-\s*0x([0-9A-Fa-f]+)\s*$", RegexOptions.Multiline)
            .Select(m => uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
    }

    /// <summary>tpm2_getcap pcrs: bank name → selected PCR indices.</summary>
    public Dictionary<string, List<int>> PcrBanks()
    {
        var output = Run("tpm2_getcap", "pcrs").Stdout;
        var banks = new Dictionary<string, List<int>>();
        foreach (Match m in Regex.Matches(output, @"^\s*-\s*(\w+):\s*\[(.*)\]\s*$", RegexOptions.Multiline))
        {
            banks[m.Groups[1].Value] = [.. m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        }
        return banks;
    }

    /// <summary>The TPM response code a failed tool run reports ("Esys_X(0x2C2) - ..."), for comparing two TPMs.</summary>
    public static uint ResponseCode(ToolResult r)
    {
        Assert.IsFalse(r.Succeeded, r.ToString());
        var m = Regex.Matches(r.Stderr, @"\(0x([0-9A-Fa-f]+)\)");
        Assert.IsNotEmpty(m, $"no response code in stderr:\n{r}");
        return uint.Parse(m[^1].Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Asserts a failed tool run reports the given TPM response code (tpm2-tools prints it as "(0x9A2)" etc.).</summary>
    public static void AssertRc(ToolResult r, uint rc)
    {
        Assert.IsFalse(r.Succeeded, r.ToString());
        string hex = rc.ToString("X", CultureInfo.InvariantCulture);
        Assert.IsTrue(Regex.IsMatch(r.Stderr, $@"0x0*{hex}\b", RegexOptions.IgnoreCase),
            $"expected TPM response code 0x{hex} in stderr:\n{r}");
    }

    public void Dispose()
    {
        Server.Dispose();
        try { Directory.Delete(WorkDir, recursive: true); }
        catch (IOException) { }
    }
}
