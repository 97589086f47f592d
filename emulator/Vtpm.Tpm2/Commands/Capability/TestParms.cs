using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Capability;

/// <summary>
/// TPM 2.0 Part 3 §30.3 TPM2_TestParms: succeeds if the TPMT_PUBLIC_PARMS could be used by this TPM.
/// The generated TPMT_PUBLIC_PARMS (Part 2 §12.2.3.8) checks the parameters against the catalog's interface types
/// (all parameter 1: TPM_RC_TYPE, TPM_RC_VALUE for a keyed-hash scheme, an AES key size or an RSA key size,
/// TPM_RC_HASH, TPM_RC_KDF, TPM_RC_SYMMETRIC, TPM_RC_MODE, TPM_RC_CURVE, TPM_RC_INSUFFICIENT). Those types already
/// list what the keys work brings (RSA and ECC objects, every block mode, every KDF); what this TPM runs today is
/// <see cref="ImplementedAlgorithms"/> (TPM_CAP_ALGS), so parameters the types accept but this TPM cannot use are
/// refused here, on parameter 1 as the unmarshalling would: TPM_RC_TYPE (RSA or ECC), TPM_RC_KDF (an XOR KDF other
/// than KDF1_SP800_108), TPM_RC_MODE (a symmetric object's mode other than CFB).
/// </summary>
public static class TestParms
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in TestParmsIn input, ref TestParmsOut output)
    {
        ref readonly var parms = ref input.Parameters;
        if (!ImplementedAlgorithms.IsImplemented(parms.Type)) return TpmRc.Type.ForParameter(1);
        switch (parms.Type)
        {
            case TpmAlgId.Keyedhash:
                {
                    ref readonly var scheme = ref parms.Parameters.KeyedHashDetail.Scheme;
                    if (scheme.Scheme == TpmAlgId.Xor && !IsImplementedOrNull(scheme.Details.Xor.Kdf)) return TpmRc.Kdf.ForParameter(1);
                    break;
                }
            case TpmAlgId.Symcipher:
                {
                    ref readonly var sym = ref parms.Parameters.SymDetail.Sym;
                    if (sym.Algorithm == TpmAlgId.Aes && !IsImplementedOrNull(sym.Mode.Aes)) return TpmRc.Mode.ForParameter(1);
                    break;
                }
        }
        return TpmRc.Success;
    }

    /// <summary>TPM_ALG_NULL (where the type allows it, the generated unmarshal has checked) or an implemented algorithm.</summary>
    static bool IsImplementedOrNull(TpmAlgId alg) => alg == TpmAlgId.Null || ImplementedAlgorithms.IsImplemented(alg);
}
