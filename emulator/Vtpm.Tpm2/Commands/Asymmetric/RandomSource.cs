using Org.BouncyCastle.Security;
using Vtpm.Tpm2.Dispatch;

namespace Vtpm.Tpm2.Commands.Asymmetric;

/// <summary>The TPM's own DRBG as BouncyCastle's randomness (OAEP seeds, PKCS#1 padding).</summary>
sealed class RandomSource(Tpm2Engine tpm) : SecureRandom
{
    public override void NextBytes(byte[] buf) => tpm.Random.Generate(buf);

    public override void NextBytes(byte[] buf, int off, int len) => tpm.Random.Generate(buf.AsSpan(off, len));

    public override void NextBytes(Span<byte> buffer) => tpm.Random.Generate(buffer);
}
