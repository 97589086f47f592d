using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.NV;

/// <summary>
/// TPM 2.0 Part 3 §31.3 TPM2_NV_DefineSpace: defines an NV index with owner or platform authorization.
/// Response codes from the generated unmarshal: TPM_RC_SIZE (auth larger than TPM2B_AUTH, parameter 1; publicInfo
/// empty or not its size, authPolicy larger than TPM2B_DIGEST, dataSize above MAX_NV_INDEX_SIZE, parameter 2),
/// TPM_RC_VALUE / TPM_RC_HASH / TPM_RC_RESERVED_BITS (nvIndex, nameAlg, attributes, parameter 2). Then this
/// handler's: TPM_RC_SIZE (auth longer than the nameAlg digest, parameter 1; authPolicy neither empty nor a
/// nameAlg digest, a counter/bits/pin index whose dataSize is not 8, an extend index whose dataSize is not the
/// nameAlg digest size, WRITEALL on an index larger than MAX_NV_BUFFER_SIZE, parameter 2); TPM_RC_ATTRIBUTES
/// (parameter 2: WRITELOCKED, READLOCKED or WRITTEN set, undefined TPM_NT, no read or no write attribute,
/// CLEAR_STCLEAR on a counter, PIN_FAIL without NO_DA, PIN index with AUTHWRITE/GLOBALLOCK/WRITEDEFINE,
/// POLICY_DELETE not by the platform; handle 1: PLATFORMCREATE does not match authHandle); TPM_RC_HIERARCHY
/// (platform with phEnableNV clear, handle 1); TPM_RC_NV_DEFINED; TPM_RC_NV_SPACE.
/// </summary>
public static class NvDefineSpace
{
    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in NvDefineSpaceIn input, ref NvDefineSpaceOut output)
    {
        ref readonly var p = ref input.PublicInfo.NvPublic;
        var a = p.Attributes;
        int digestSize = TpmHash.DigestSize(p.NameAlg);
        bool platform = input.AuthHandle == (uint)TpmRh.Platform;
        // Part 3 §31.3 (detailed actions): trailing zeros of auth are removed before the size check and not stored.
        var auth = Authorization.TrimTrailingZeros(input.Auth.Span);

        if (p.AuthPolicy.Size != 0 && p.AuthPolicy.Size != digestSize) return TpmRc.Size.ForParameter(2);
        if (auth.Length > digestSize) return TpmRc.Size.ForParameter(1);
        if (platform && !tpm.Hierarchy.PhEnableNv) return TpmRc.Hierarchy.ForHandle(1);

        // Attributes only the TPM sets.
        if ((a & (TpmaNv.WriteLocked | TpmaNv.ReadLocked | TpmaNv.Written)) != 0) return TpmRc.Attributes.ForParameter(2);
        var type = a.NvType();
        switch (type)
        {
            case TpmNt.Ordinary:
                // The unmarshal already refuses a dataSize above the catalog's MAX_NV_INDEX_SIZE (Part 2 §13.5); this
                // keeps the subsystem's own limit (what its state format reads back) should the two ever differ.
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
        return tpm.Nv.Define(p, auth.ToArray());
    }
}
