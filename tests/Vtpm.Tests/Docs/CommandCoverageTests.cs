using System.Text;
using System.Text.RegularExpressions;
using Vtpm.Tests.Support.Processes;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Docs;

/// <summary>
/// docs/commands.md is the coverage table of every Part 3 command: whether the engine implements it (its command
/// table, built from the catalog) and which test classes send it, or why it is not there yet. The table is derived,
/// not kept by hand: this test recomputes it and fails when the committed file differs
/// (<c>VTPM_UPDATE_DOCS=1 ./build.sh test</c> rewrites it).
/// </summary>
[TestClass]
public sealed class CommandCoverageTests
{
    /// <summary>Why a command is not implemented yet, by the Part 3 chapter it belongs to.</summary>
    static string Pending(CommandInfo c)
    {
        if (c.Code is TpmCc.MakeCredential or TpmCc.ActivateCredential or TpmCc.GetSessionAuditDigest or TpmCc.GetCommandAuditDigest
            or TpmCc.Commit or TpmCc.EcEphemeral or TpmCc.ZGen2Phase or TpmCc.VendorTcgTest)
            return "not yet: credentials, audit and the rest of swtpm's list (issue 10)";
        string chapter = c.Section.TrimStart('§').Split('.')[0];
        return chapter switch
        {
            "12" or "14" or "15" or "17" or "18" or "19" or "20" => "not yet: objects and keys (issue 9, part 2)",
            "13" or "21" or "23" => "not yet: policies, duplication, credentials, audit (issue 10)",
            "24" or "28" => "not yet: needs objects (issue 9, part 2)",
            "26" or "27" => "not yet: PP_Commands, SetAlgorithmSet, field upgrade (issue 10)",
            "31" => "not yet: needs objects to sign with (issue 9, part 2)",
            "32" or "33" => "not planned: attached components and ACT are not in swtpm",
            _ => "not yet (issue 10)",
        };
    }

    static string Render()
    {
        string root = Executables.RepoRoot;
        var sources = Directory.GetFiles(Path.Combine(root, "tests", "Vtpm.Tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => !f.EndsWith($"Docs{Path.DirectorySeparatorChar}CommandCoverageTests.cs", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Text: File.ReadAllText(f)))
            .ToList();
        var sb = new StringBuilder();
        sb.Append("# TPM 2.0 command coverage\n\n");
        sb.Append("Every command of TPM 2.0 Part 3 (rev. 1.59) in the catalog (tools/gen/catalog), whether the engine implements it, and\n");
        sb.Append("the test files that send it (test classes, and the sequences and helpers they run: by command code, generated\nstructure, typed client or the tpm2-tools tool of the same name). Derived by tests/Vtpm.Tests/Docs/CommandCoverageTests.cs, which fails when this file is\n");
        sb.Append("out of date (`VTPM_UPDATE_DOCS=1 ./build.sh test` rewrites it).\n\n");
        int implemented = CommandCatalog.All.Count(c => CommandTable.Lookup((uint)c.Code) is not null);
        sb.Append($"{implemented} of {CommandCatalog.All.Count} commands implemented.\n\n");
        sb.Append("| command | Part 3 | status | sent by |\n|---|---|---|---|\n");
        foreach (var c in CommandCatalog.All)
        {
            // The C# name of the command (TPM2_HMAC → Hmac; the code's enum name may be an alias such as Mac).
            string member = string.Concat(c.Name["TPM2_".Length..].Split('_').Select(p =>
                p.All(ch => char.IsUpper(ch) || char.IsDigit(ch)) ? p[0] + p[1..].ToLowerInvariant() : char.ToUpperInvariant(p[0]) + p[1..]));
            // tpm2_encryptdecrypt sends TPM2_EncryptDecrypt2 (falling back to TPM2_EncryptDecrypt).
            string tool = member == "EncryptDecrypt2" ? "encryptdecrypt" : member.ToLowerInvariant();
            // The command by code, by its generated In, through the typed client, or by the tpm2-tools tool of its name.
            var pattern = new Regex($@"\bTpmCc\.{member}\b|\b{member}In\b|\bclient\.{member}\(|""tpm2_{tool}""", RegexOptions.CultureInvariant);
            var users = sources.Where(s => pattern.IsMatch(s.Text)).Select(s => s.Name).ToList();
            bool done = CommandTable.Lookup((uint)c.Code) is not null;
            string status = done ? "implemented" : Pending(c);
            sb.Append($"| {c.Name} | {c.Section} | {status} | {(users.Count > 0 ? string.Join(", ", users) : "—")} |\n");
        }
        return sb.ToString();
    }

    [TestMethod]
    public void CoverageTableMatchesTheEngineAndTheTests()
    {
        string path = Path.Combine(Executables.RepoRoot, "docs", "commands.md");
        string expected = Render();
        if (Environment.GetEnvironmentVariable("VTPM_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.IsTrue(File.Exists(path), "docs/commands.md is missing: run VTPM_UPDATE_DOCS=1 ./build.sh test");
        Assert.AreEqual(expected, File.ReadAllText(path), "docs/commands.md is out of date: run VTPM_UPDATE_DOCS=1 ./build.sh test");
    }

    [TestMethod]
    public void EveryImplementedCommandIsSentByATest()
    {
        string table = Render();
        var untested = table.Split('\n').Where(l => l.Contains("| implemented |", StringComparison.Ordinal) && l.EndsWith("| — |", StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(untested, "implemented but no test sends them:\n" + string.Join('\n', untested));
    }
}
