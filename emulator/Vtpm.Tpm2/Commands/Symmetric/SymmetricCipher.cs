using System.Security.Cryptography;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Symmetric;

/// <summary>
/// TPM2_EncryptDecrypt and TPM2_EncryptDecrypt2 (Part 3 §15.2, §15.3) share everything but their parameter order:
/// AES with a loaded SYMCIPHER key in CFB, CBC, CTR, OFB or ECB, the IV chained out for the next call.
/// </summary>
public static class SymmetricCipher
{
    const int Block = 16;

    /// <summary>Parameter numbers of the two commands' decrypt, mode, ivIn and inData.</summary>
    public readonly record struct Positions(int Decrypt, int Mode, int Iv, int Data);

    public static TpmRc Run(Tpm2Engine tpm, uint keyHandle, bool decrypt, TpmAlgId mode, in Tpm2bIv ivIn, in Tpm2bMaxBuffer inData,
        Positions at, ref Tpm2bMaxBuffer outData, ref Tpm2bIv ivOut)
    {
        if (tpm.Objects.GetKey(keyHandle) is not { } key || key.Public.Type != TpmAlgId.Symcipher) return TpmRc.Key.ForHandle(1);
        if (key.Has(TpmaObject.Restricted)) return TpmRc.Attributes.ForHandle(1);
        // "sign" is the encrypt attribute of a symmetric key (Part 2 §8.3.3.1.8).
        if (!key.Has(decrypt ? TpmaObject.Decrypt : TpmaObject.Sign)) return TpmRc.Attributes.ForHandle(1);
        var keyMode = key.Public.Parameters.SymDetail.Sym.Mode.Aes;
        if (keyMode != TpmAlgId.Null && mode != TpmAlgId.Null && mode != keyMode) return TpmRc.Mode.ForParameter(at.Mode);
        if (keyMode != TpmAlgId.Null) mode = keyMode;
        if (mode == TpmAlgId.Null) return TpmRc.Mode.ForParameter(at.Mode);
        if (mode != TpmAlgId.Ecb && ivIn.Size != Block) return TpmRc.Size.ForParameter(at.Iv);
        var data = inData.Span;
        if (mode is TpmAlgId.Ecb or TpmAlgId.Cbc && data.Length % Block != 0) return TpmRc.Size.ForParameter(at.Data);

        using var aes = Aes.Create();
        aes.Key = key.Sensitive.Sensitive.Sym.ToArray();
        var iv = ivIn.Span.ToArray();
        byte[] result;
        byte[] nextIv;
        switch (mode)
        {
            case TpmAlgId.Ecb:
                result = decrypt ? aes.DecryptEcb(data, PaddingMode.None) : aes.EncryptEcb(data, PaddingMode.None);
                nextIv = iv;
                break;
            case TpmAlgId.Cbc:
                result = decrypt ? aes.DecryptCbc(data, iv, PaddingMode.None) : aes.EncryptCbc(data, iv, PaddingMode.None);
                // The last ciphertext block chains into the next call.
                nextIv = data.Length == 0 ? iv : (decrypt ? data[^Block..].ToArray() : result[^Block..]);
                break;
            case TpmAlgId.Cfb:
            {
                result = data.ToArray();
                Crypto.AesCfb.Transform(key.Sensitive.Sensitive.Sym.Span, iv, result, !decrypt);
                // The chaining value after the data: the last ciphertext block; after a partial block, its ciphertext
                // octets followed by the rest of the keystream block they used (as the reference's CFB loop leaves it).
                ReadOnlySpan<byte> cipher = decrypt ? data : result;
                int whole = cipher.Length / Block * Block, partial = cipher.Length - whole;
                var previous = whole == 0 ? iv : cipher[(whole - Block)..whole].ToArray();
                if (partial == 0) nextIv = previous;
                else
                {
                    nextIv = aes.EncryptEcb(previous, PaddingMode.None);
                    cipher[whole..].CopyTo(nextIv);
                }
                break;
            }
            default: // CTR and OFB: a keystream from AES in ECB over the counter or the previous keystream block.
            {
                result = new byte[data.Length];
                var input = (byte[])iv.Clone();
                for (int i = 0; i < data.Length; i += Block)
                {
                    var stream = aes.EncryptEcb(input, PaddingMode.None);
                    for (int j = 0; j < Block && i + j < data.Length; j++) result[i + j] = (byte)(data[i + j] ^ stream[j]);
                    if (mode == TpmAlgId.Ofb) input = stream;
                    else for (int k = Block - 1; k >= 0 && ++input[k] == 0; k--) { }
                }
                nextIv = input;
                break;
            }
        }
        outData = Tpm2bMaxBuffer.From(result);
        ivOut = mode == TpmAlgId.Ecb ? default : Tpm2bIv.From(nextIv);
        CryptographicOperations.ZeroMemory(result);
        return TpmRc.Success;
    }
}
