using System.Security.Cryptography;
using System.Text;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Subsystems;

/// <summary>
/// The TPM's random number generator (Part 1 §11.4.10): an SP 800-90A CTR_DRBG (AES-256, derivation
/// function) instantiated from the platform's entropy source at every _TPM_Init and reseeded from it
/// every <see cref="ReseedInterval"/> requests. TPM2_StirRandom mixes caller data in as additional
/// input (Part 3 §16.2). Small requests (GetRandom, nonces) are served from one DRBG Generate of
/// <see cref="OutputBufferSize"/> bytes: re-keying .NET's AES allocates, and the CTR_DRBG changes its key
/// at the end of every Generate, so one Generate per command would allocate per command. Bytes handed
/// out are wiped from the buffer; a reseed or StirRandom discards what is left. Also holds the self-test status of the cryptographic algorithms (Part 1 §12.5),
/// which like the DRBG state lives in RAM only.
/// </summary>
public sealed class RandomSubsystem(Tpm2Engine tpm) : Subsystem(tpm)
{
    /// <summary>Generate requests between reseeds from the entropy source (SP 800-90A allows up to 2^48; we reseed far sooner).</summary>
    public const ulong ReseedInterval = 1024;

    const int EntropyLength = CtrDrbg.SeedLength;
    const int NonceLength = 16;
    static readonly byte[] Personalization = Encoding.ASCII.GetBytes("VtpmStack TPM 2.0 DRBG");

    /// <summary>Bytes produced by one DRBG Generate for small requests.</summary>
    public const int OutputBufferSize = 4096;

    CtrDrbg? _drbg;
    readonly byte[] _output = new byte[OutputBufferSize];
    int _outputUsed = OutputBufferSize;

    // Requests since the last (re)seed, counted like the DRBG's reseed_counter (starts at 1).
    ulong _requests;

    public override string Tag => "RAND";

    /// <summary>Number of times the DRBG took fresh entropy (instantiate + reseeds) since this object was created.</summary>
    public int SeedCount { get; private set; }

    /// <summary>Number of DRBG Generate calls made to refill the output buffer (the only allocating step).</summary>
    public long RefillCount { get; private set; }

    /// <summary>Algorithms whose self test passed since _TPM_Init (Part 1 §12.5).</summary>
    public HashSet<TpmAlgId> TestedAlgorithms { get; } = [];

    /// <summary>Fills <paramref name="destination"/> from the DRBG.</summary>
    public void Generate(Span<byte> destination)
    {
        var drbg = Instance();
        if (_requests > ReseedInterval) Reseed(drbg, default);
        _requests++;
        if (destination.Length > OutputBufferSize / 4)
        {
            // Large requests go straight to the DRBG.
            while (!destination.IsEmpty)
            {
                int n = Math.Min(destination.Length, CtrDrbg.MaxBytesPerRequest);
                drbg.Generate(destination[..n]);
                destination = destination[n..];
            }
            return;
        }
        while (!destination.IsEmpty)
        {
            if (_outputUsed == OutputBufferSize)
            {
                drbg.Generate(_output);
                _outputUsed = 0;
                RefillCount++;
            }
            int n = Math.Min(destination.Length, OutputBufferSize - _outputUsed);
            var taken = _output.AsSpan(_outputUsed, n);
            taken.CopyTo(destination);
            CryptographicOperations.ZeroMemory(taken);
            _outputUsed += n;
            destination = destination[n..];
        }
    }

    /// <summary>Wipes the unused output (after a reseed, its bytes must not be handed out).</summary>
    void DiscardOutput()
    {
        CryptographicOperations.ZeroMemory(_output);
        _outputUsed = OutputBufferSize;
    }

    /// <summary>TPM2_StirRandom: reseeds with fresh entropy and the caller's data as additional input.</summary>
    public void Stir(ReadOnlySpan<byte> additionalInput) => Reseed(Instance(), additionalInput);

    public override void OnInit()
    {
        // Power on: the DRBG state was in RAM; instantiate afresh (Part 1 §11.4.10.3).
        _drbg?.Dispose();
        _drbg = null;
        DiscardOutput();
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
        CryptographicOperations.ZeroMemory(entropy);
        _requests = 1;
        SeedCount++;
        return _drbg = drbg;
    }

    void Reseed(CtrDrbg drbg, ReadOnlySpan<byte> additionalInput)
    {
        Span<byte> entropy = stackalloc byte[EntropyLength];
        Tpm.Platform.GetEntropy(entropy);
        drbg.Reseed(entropy, additionalInput);
        CryptographicOperations.ZeroMemory(entropy);
        DiscardOutput();
        _requests = 1;
        SeedCount++;
    }
}
