using Vtpm.Tests.Support;
using Vtpm.Tpm2.Subsystems;

namespace Vtpm.Tests.RandomNumbers;

/// <summary>
/// Small requests are served from one DRBG Generate of RandomSubsystem.OutputBufferSize bytes: no byte
/// of that output is handed out twice, across refills too.
/// </summary>
[TestClass]
public sealed class BufferedOutputTests
{
    [TestMethod]
    public void RandomBytesAcrossBufferRefillsNeverRepeat()
    {
        var h = new EngineHost();
        long refills = h.Tpm.Random.RefillCount;
        var seen = new HashSet<string>();
        var chunk = new byte[32];
        for (int i = 0; i < 3 * RandomSubsystem.OutputBufferSize / chunk.Length; i++)
        {
            h.Tpm.Random.Generate(chunk);
            Assert.IsTrue(seen.Add(Convert.ToHexString(chunk)), $"chunk {i} repeats an earlier one");
        }
        Assert.IsGreaterThanOrEqualTo(refills + 3, h.Tpm.Random.RefillCount);
    }

    [TestMethod]
    public void LargeRequestsBypassTheBuffer()
    {
        var h = new EngineHost();
        long refills = h.Tpm.Random.RefillCount;
        var large = new byte[RandomSubsystem.OutputBufferSize];
        h.Tpm.Random.Generate(large);
        Assert.AreEqual(refills, h.Tpm.Random.RefillCount);
        Assert.IsTrue(large.Any(b => b != 0));
    }
}
