using System.Buffers.Binary;
using System.Text;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Differential;

/// <summary>
/// The same raw command bytes to swtpm (the oracle) and to vtpm, both over swtpm's socket protocol.
/// <see cref="SwtpmGivesTheSpecifiedResponseCodes"/> checks the sequences themselves against swtpm;
/// <see cref="VtpmAnswersLikeSwtpm"/> compares the two implementations step by step.
/// </summary>
[TestClass]
public sealed class DifferentialTests
{
    public static IEnumerable<object[]> Sequences => DiffSequences.All.Select(s => new object[] { s.Name });

    [TestMethod]
    [DynamicData(nameof(Sequences))]
    public void SwtpmGivesTheSpecifiedResponseCodes(string sequence)
    {
        var seq = DiffSequences.All.Single(s => s.Name == sequence);
        var responses = Run(TpmImplementation.Swtpm, seq);
        var errors = new StringBuilder();
        for (int i = 0; i < seq.Steps.Count; i++)
        {
            var step = seq.Steps[i];
            if (step.PowerCycle) continue;
            uint rc = DiffStep.RcOf(responses[i]);
            uint expect = step.SwtpmRc ?? step.Expect;
            if (rc != expect) errors.AppendLine($"step {i} '{step.Name}': expected 0x{expect:X}, swtpm 0x{rc:X}");
        }
        Assert.AreEqual(0, errors.Length, $"{seq.Name} ({seq.Why}):\n{errors}");
    }

    [TestMethod]
    [DynamicData(nameof(Sequences))]
    public void VtpmAnswersLikeSwtpm(string sequence)
    {
        var seq = DiffSequences.All.Single(s => s.Name == sequence);
        var reference = Run(TpmImplementation.Swtpm, seq);
        var ours = Run(TpmImplementation.Vtpm, seq);
        var errors = new StringBuilder();
        for (int i = 0; i < seq.Steps.Count; i++)
        {
            var step = seq.Steps[i];
            if (step.PowerCycle) continue;
            // Where swtpm deviates from the spec, hold vtpm to the spec only.
            var diff = step.SwtpmRc is null ? step.Difference(reference[i], ours[i]) : null;
            if (DiffStep.RcOf(ours[i]) != step.Expect) diff = (diff is null ? "" : diff + "; ") + $"expected 0x{step.Expect:X}";
            if (diff is not null)
            {
                errors.AppendLine($"step {i} '{step.Name}' ({step.How}): {diff}");
                errors.AppendLine($"  swtpm: {Convert.ToHexString(reference[i])}");
                errors.AppendLine($"  vtpm:  {Convert.ToHexString(ours[i])}");
            }
        }
        Assert.AreEqual(0, errors.Length, $"{seq.Name} ({seq.Why}):\n{errors}");
    }

    /// <summary>Runs a sequence on a fresh server of the given implementation; returns one response per step (empty for power cycles).</summary>
    static List<byte[]> Run(TpmImplementation implementation, DiffSequence seq)
    {
        using var server = TpmServer.Start(new TpmTarget(implementation, TpmProtocol.Swtpm));
        var ctx = new DiffContext();
        var responses = new List<byte[]>();
        var client = server.Connect();
        try
        {
            foreach (var step in seq.Steps)
            {
                if (step.PowerCycle)
                {
                    client.Dispose();
                    server.PowerCycle();
                    client = server.Connect();
                    responses.Add([]);
                    continue;
                }
                byte[] response;
                try
                {
                    var command = step.Build!(ctx);
                    response = client.Transact(command);
                    // TPM_RC_RETRY/TPM_RC_YIELDED/TPM_RC_TESTING ask the caller to resend, and every TSS does
                    // (libtpms answers RETRY to the first use of a DA-protected entity after Startup).
                    for (int retry = 0; retry < 5 && DiffStep.RcOf(response) is 0x922 or 0x908 or 0x90A; retry++)
                        response = client.Transact(command);
                }
                catch (Exception e) when (e is IOException or TimeoutException)
                {
                    throw new AssertFailedException($"{implementation}, {seq.Name}, step '{step.Name}': no response ({e.Message})\n{server.Output}", e);
                }
                if (step.ReturnsHandle && DiffStep.RcOf(response) == 0) ctx.Handle = BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(10));
                responses.Add(response);
            }
        }
        finally
        {
            client.Dispose();
        }
        return responses;
    }
}
