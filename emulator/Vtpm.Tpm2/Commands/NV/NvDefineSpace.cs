using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.3 TPM2_NV_DefineSpace: defines an NV index with owner or platform authorization.
/// Response codes: TPM_RC_SIZE (auth longer than the nameAlg digest, parameter 1; authPolicy neither
/// empty nor a nameAlg digest, a counter/bits/pin index whose dataSize is not 8, an extend index whose
/// dataSize is not the nameAlg digest size, an ordinary index larger than MAX_NV_INDEX_SIZE, WRITEALL
/// on an index larger than MAX_NV_BUFFER_SIZE, parameter 2); TPM_RC_HASH / TPM_RC_VALUE /
/// TPM_RC_RESERVED_BITS (publicInfo unmarshal, parameter 2); TPM_RC_ATTRIBUTES (parameter 2: WRITELOCKED,
/// READLOCKED or WRITTEN set, undefined TPM_NT, no read or no write attribute, CLEAR_STCLEAR on a
/// counter, PIN_FAIL without NO_DA, PIN index with AUTHWRITE/GLOBALLOCK/WRITEDEFINE, POLICY_DELETE not
/// by the platform; handle 1: PLATFORMCREATE does not match authHandle); TPM_RC_HIERARCHY (platform
/// with phEnableNV clear, handle 1); TPM_RC_NV_DEFINED; TPM_RC_NV_SPACE.
/// </summary>
public static class NvDefineSpace
{
    public readonly record struct In(uint AuthHandle, byte[] Auth, TpmsNvPublic PublicInfo);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadSized16(out var auth, TpmHash.MaxDigestSize);
        if (rc.IsError) return rc;
        var authBytes = Authorization.TrimTrailingZeros(auth).ToArray();
        rc = f.ReadStructure<Tpm2bNvPublic>(Tpm2bNvPublic.Unmarshal, out var pub);
        if (rc.IsError) return rc;
        input = new In(f.Handles[0], authBytes, pub.NvPublic);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        var p = input.PublicInfo;
        var a = p.Attributes;
        int digestSize = TpmHash.DigestSize(p.NameAlg);
        bool platform = input.AuthHandle == (uint)TpmRh.Platform;

        if (p.AuthPolicy.Size != 0 && p.AuthPolicy.Size != digestSize) return TpmRc.Size.ForParameter(2);
        if (input.Auth.Length > digestSize) return TpmRc.Size.ForParameter(1);
        if (platform && !tpm.Hierarchy.PhEnableNv) return TpmRc.Hierarchy.ForHandle(1);

        // Attributes only the TPM sets.
        if ((a & (TpmaNv.WriteLocked | TpmaNv.ReadLocked | TpmaNv.Written)) != 0) return TpmRc.Attributes.ForParameter(2);
        var type = a.NvType();
        switch (type)
        {
            case TpmNt.Ordinary:
                if (p.DataSize > NvSubsystem.IndexMax) return TpmRc.Size.ForParameter(2);
                break;
            case TpmNt.Extend:
                if (p.DataSize != digestSize) return TpmRc.Size.ForParameter(2);
                break;
            case TpmNt.Counter:
            case TpmNt.Bits:
            case TpmNt.PinFail:
            case TpmNt.PinPass:
                if (p.DataSize != 8) return TpmRc.Size.ForParameter(2);
                // A counter must never go back: it cannot be cleared on Startup(CLEAR).
                if (type == TpmNt.Counter && (a & TpmaNv.ClearStClear) != 0) return TpmRc.Attributes.ForParameter(2);
                if (type == TpmNt.PinFail && (a & TpmaNv.NoDa) == 0) return TpmRc.Attributes.ForParameter(2);
                if (type is TpmNt.PinFail or TpmNt.PinPass && (a & (TpmaNv.AuthWrite | TpmaNv.GlobalLock | TpmaNv.WriteDefine)) != 0)
                    return TpmRc.Attributes.ForParameter(2);
                break;
            default:
                return TpmRc.Attributes.ForParameter(2);
        }
        if ((a & NvPublic.AnyRead) == 0 || (a & NvPublic.AnyWrite) == 0) return TpmRc.Attributes.ForParameter(2);
        // The creator must be able to delete it: PLATFORMCREATE iff the platform defines it.
        if (((a & TpmaNv.PlatformCreate) != 0) != platform) return TpmRc.Attributes.ForHandle(1);
        if ((a & TpmaNv.PolicyDelete) != 0 && !platform) return TpmRc.Attributes.ForParameter(2);
        if ((a & TpmaNv.WriteAll) != 0 && p.DataSize > NvSubsystem.BufferMax) return TpmRc.Size.ForParameter(2);
        if (tpm.Nv.IsDefined(p.NvIndex)) return TpmRc.NvDefined;
        return tpm.Nv.Define(p, input.Auth);
    }
}
