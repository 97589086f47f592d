using Vtpm.Tpm2.Commands.Signing;
using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Attestation;

/// <summary>
/// What every attestation (Part 3 §18) shares: the signing key's checks and scheme, the TPMS_ATTEST header (Part 2
/// §10.12.12: TPM_GENERATED_VALUE, the type, the signer's Qualified Name, the caller's extraData, the clock and the
/// firmware version) and the signature over H(TPMS_ATTEST). A NULL signHandle gives the attestation unsigned.
/// </summary>
public static class Attest
{
    /// <summary>TPM_PT_FIRMWARE_VERSION_1 and _2 as one UINT64.</summary>
    const ulong FirmwareVersion = 0x00010000UL << 32;

    /// <summary>The signing key and scheme: TPM_RC_KEY (handle <paramref name="signHandleNumber"/>), TPM_RC_SCHEME (parameter <paramref name="schemeParameter"/>).</summary>
    public static TpmRc Signer(Tpm2Engine tpm, uint signHandle, int signHandleNumber, in TpmtSigScheme inScheme, int schemeParameter,
        out KeyObject? key, out TpmAlgId scheme, out TpmAlgId hash)
    {
        (key, scheme, hash) = (null, TpmAlgId.Null, TpmAlgId.Null);
        if (signHandle == (uint)TpmRh.Null) return TpmRc.Success;
        key = tpm.Objects.GetKey(signHandle);
        if (key is null || !key.Has(TpmaObject.Sign) || key.IsPublicOnly) return TpmRc.Key.ForHandle(signHandleNumber);
        var rc = SigningScheme.Resolve(key, inScheme, out scheme, out hash);
        return rc.IsError ? rc.ForParameter(schemeParameter) : TpmRc.Success;
    }

    public static TpmsAttest Header(Tpm2Engine tpm, TpmSt type, KeyObject? key, in Tpm2bData extraData) => new()
    {
        Magic = TpmGenerated.Value,
        Type = type,
        QualifiedSigner = key is null ? default : Tpm2bName.From(key.QualifiedName),
        ExtraData = extraData,
        ClockInfo = tpm.Clock.ClockInfo,
        FirmwareVersion = FirmwareVersion,
    };

    /// <summary>Marshals <paramref name="attest"/> into <paramref name="attested"/> and signs it (or leaves the signature NULL).</summary>
    public static void Sign(KeyObject? key, TpmAlgId scheme, TpmAlgId hash, in TpmsAttest attest, ref Tpm2bAttest attested, ref TpmtSignature signature)
    {
        var w = new TpmWriter(attested.AttestationData);
        attest.Marshal(ref w);
        attested.Size = (ushort)w.Position;
        if (key is null)
        {
            signature.SigAlg = TpmAlgId.Null;
            return;
        }
        var digest = TpmHash.Hash(hash, attested.Span);
        Signing.Signer.Sign(key, scheme, hash, digest, ref signature);
    }
}
