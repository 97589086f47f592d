using Vtpm.Tests.Support;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.RandomNumbers;

[TestClass]
public sealed class RandomTests
{
    /// <summary>A platform whose entropy is a fixed byte pattern (determinism by injection).</summary>
    sealed class FixedEntropy(byte seed) : TpmPlatform
    {
        public int Calls;

        public override void GetEntropy(Span<byte> destination)
        {
            Calls++;
            for (int i = 0; i < destination.Length; i++) destination[i] = (byte)(seed + i);
        }
    }

    static Tpm2Engine Started(TpmPlatform platform)
    {
        var tpm = new Tpm2Engine(new MemoryStateStore(), null, platform);
        tpm.Init();
        Assert.AreEqual(TpmRc.Success, Send(tpm, Cmd.Of(TpmCc.Startup).U16((ushort)TpmSu.Clear)).Rc);
        return tpm;
    }

    static Rsp Send(Tpm2Engine tpm, Cmd cmd)
    {
        var response = new byte[4096];
        int n = tpm.Execute(cmd.Build(), response, new CommandContext(0));
        return new Rsp(response[..n], false);
    }

    static byte[] GetRandom(Tpm2Engine tpm, ushort n) => Send(tpm, Cmd.Of(TpmCc.GetRandom).U16(n)).Parameters[2..];

    [TestMethod]
    public void SameEntropyGivesSameRandomBytes()
    {
        CollectionAssert.AreEqual(GetRandom(Started(new FixedEntropy(1)), 32), GetRandom(Started(new FixedEntropy(1)), 32));
    }

    [TestMethod]
    public void DifferentEntropyGivesDifferentRandomBytes()
    {
        CollectionAssert.AreNotEqual(GetRandom(Started(new FixedEntropy(1)), 32), GetRandom(Started(new FixedEntropy(2)), 32));
    }

    [TestMethod]
    public void StirRandomChangesLaterOutput()
    {
        var a = Started(new FixedEntropy(1));
        var b = Started(new FixedEntropy(1));
        Assert.AreEqual(TpmRc.Success, Send(b, Cmd.Of(TpmCc.StirRandom).B2("more entropy")).Rc);
        CollectionAssert.AreNotEqual(GetRandom(a, 32), GetRandom(b, 32));
    }

    [TestMethod]
    public void StirRandomLargerThan128BytesIsSizeParameter1()
    {
        var h = new EngineHost();
        Assert.AreEqual(TpmRc.Size.ForParameter(1), h.Send(Cmd.Of(TpmCc.StirRandom).B2(new byte[129])).Rc);
    }

    [TestMethod]
    public void GetRandomReturnsAtMostTheLargestDigest()
    {
        var h = new EngineHost();
        Assert.HasCount(66, h.Send(Cmd.Of(TpmCc.GetRandom).U16(1000)).Parameters);
    }

    [TestMethod]
    public void DrbgReseedsFromThePlatformAfterTheInterval()
    {
        var platform = new FixedEntropy(7);
        var tpm = Started(platform);
        int before = tpm.Random.SeedCount;
        Span<byte> b = stackalloc byte[1];
        for (ulong i = 0; i <= Tpm2.Subsystems.RandomSubsystem.ReseedInterval; i++) tpm.Random.Generate(b);
        Assert.AreEqual(before + 1, tpm.Random.SeedCount);
    }

    [TestMethod]
    public void DrbgOutputDependsOnAdditionalInput()
    {
        using var a = new CtrDrbg();
        using var b = new CtrDrbg();
        var seed = new byte[48];
        a.Instantiate(seed, new byte[16], []);
        b.Instantiate(seed, new byte[16], []);
        var x = new byte[64];
        var y = new byte[64];
        a.Generate(x);
        b.Generate(y, "additional"u8);
        CollectionAssert.AreNotEqual(x, y);
    }

    [TestMethod]
    public void DrbgConsecutiveBlocksDiffer()
    {
        using var d = new CtrDrbg();
        d.Instantiate(new byte[48], new byte[16], []);
        var x = new byte[32];
        var y = new byte[32];
        d.Generate(x);
        d.Generate(y);
        CollectionAssert.AreNotEqual(x, y);
        Assert.AreEqual(3ul, d.ReseedCounter);
    }

    [TestMethod]
    public void DerivationFunctionDependsOnItsWholeInput()
    {
        var a = new byte[48];
        var b = new byte[48];
        CtrDrbg.DerivationFunction(new byte[100], a);
        var input = new byte[100];
        input[99] = 1;
        CtrDrbg.DerivationFunction(input, b);
        CollectionAssert.AreNotEqual(a, b);
    }
}
