using System.Text;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// The TPM's random number generator (Part 1 §11.4.10): an SP 800-90A CTR_DRBG (AES-256, derivation
/// function) instantiated from the platform's entropy source at every _TPM_Init and reseeded from it
/// every <see cref="ReseedInterval"/> requests. TPM2_StirRandom mixes caller data in as additional
/// input (Part 3 §16.2). Also holds the self-test status of the cryptographic algorithms (Part 1 §12.5),
/// which like the DRBG state lives in RAM only.
/// </summary>
public sealed class RandomSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>Generate requests between reseeds from the entropy source (SP 800-90A allows up to 2^48; we reseed far sooner).</summary>
    public const ulong ReseedInterval = 1024;

    const int EntropyLength = CtrDrbg.SeedLength;
    const int NonceLength = 16;
    static readonly byte[] Personalization = Encoding.ASCII.GetBytes("VtpmStack TPM 2.0 DRBG");

    CtrDrbg? _drbg;

    public override string Tag => "RAND";

    /// <summary>Number of times the DRBG took fresh entropy (instantiate + reseeds) since this object was created.</summary>
    public int SeedCount { get; private set; }

    /// <summary>Algorithms whose self test passed since _TPM_Init (Part 1 §12.5).</summary>
    public HashSet<TpmAlgId> TestedAlgorithms { get; } = [];

    /// <summary>Fills <paramref name="destination"/> from the DRBG.</summary>
    public void Generate(Span<byte> destination)
    {
        var drbg = Instance();
        while (!destination.IsEmpty)
        {
            if (drbg.ReseedCounter > ReseedInterval) Reseed(drbg, default);
            int n = Math.Min(destination.Length, CtrDrbg.MaxBytesPerRequest);
            drbg.Generate(destination[..n]);
            destination = destination[n..];
        }
    }

    /// <summary>TPM2_StirRandom: reseeds with fresh entropy and the caller's data as additional input.</summary>
    public void Stir(ReadOnlySpan<byte> additionalInput) => Reseed(Instance(), additionalInput);

    public override void OnInit()
    {
        // Power on: the DRBG state was in RAM; instantiate afresh (Part 1 §11.4.10.3).
        _drbg?.Dispose();
        _drbg = null;
        Instance();
        TestedAlgorithms.Clear();
    }

    CtrDrbg Instance()
    {
        if (_drbg is not null) return _drbg;
        Span<byte> entropy = stackalloc byte[EntropyLength + NonceLength];
        Tpm.Platform.GetEntropy(entropy);
        var drbg = new CtrDrbg();
        drbg.Instantiate(entropy[..EntropyLength], entropy[EntropyLength..], Personalization);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(entropy);
        SeedCount++;
        return _drbg = drbg;
    }

    void Reseed(CtrDrbg drbg, ReadOnlySpan<byte> additionalInput)
    {
        Span<byte> entropy = stackalloc byte[EntropyLength];
        Tpm.Platform.GetEntropy(entropy);
        drbg.Reseed(entropy, additionalInput);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(entropy);
        SeedCount++;
    }
}
