using Vtpm.Tpm2.Crypto;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.Subsystems;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tpm2.Commands.Capability;

/// <summary>
/// TPM 2.0 Part 3 §30.2 TPM2_GetCapability: returns up to propertyCount entries (capped at what fits in
/// MAX_CAP_DATA) of the capability's list, starting at the first entry ≥ property, with moreData YES when
/// entries remain. Other subsystems answer their own handles (ListHandles) and variable properties
/// (TryGetProperty). The answer fills the generated TPMS_CAPABILITY_DATA (its lists are inline, so the fixed and
/// variable properties stay allocation-free). Response codes: TPM_RC_VALUE (parameter 1: not a TPM_CAP — the
/// generated unmarshal, Part 2 §6.12 — or TPM_CAP_VENDOR_PROPERTY, which this TPM has none of), TPM_RC_HANDLE
/// (parameter 2: TPM_CAP_HANDLES with an unknown handle type).
/// </summary>
public static class GetCapability
{
    /// <summary>The hierarchies whose authPolicy TPM_CAP_AUTH_POLICIES reports, in handle order.</summary>
    static readonly uint[] PolicyHandles = [(uint)TpmRh.Owner, (uint)TpmRh.Lockout, (uint)TpmRh.Endorsement, (uint)TpmRh.Platform];

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f, in GetCapabilityIn input, ref GetCapabilityOut output)
    {
        uint count = input.PropertyCount;
        uint p = input.Property;
        output.CapabilityData.Capability = input.Capability;
        ref var data = ref output.CapabilityData.Data;
        var w = new Page();
        switch (input.Capability)
        {
            case TpmCap.Algs:
                {
                    ref var list = ref data.Algorithms;
                    int available = 0;
                    foreach (var (alg, _) in ImplementedAlgorithms.All)
                        if ((uint)alg >= p) available++;
                    int n = w.Take(available, count, CapabilitySupport.MaxCapAlgs);
                    foreach (var (alg, attributes) in ImplementedAlgorithms.All)
                    {
                        if ((uint)alg < p) continue;
                        if (list.Count == n) break;
                        // ImplementedAlgorithms keeps its own TPMA_ALGORITHM enum, bit for bit the generated one.
                        list.AlgProperties[(int)list.Count++] = new TpmsAlgProperty { Alg = alg, AlgProperties = attributes };
                    }
                    break;
                }
            case TpmCap.Handles:
                {
                    var type = HandleKinds.TypeOf(p);
                    if (type is not (TpmHt.Pcr or TpmHt.NvIndex or TpmHt.LoadedSession or TpmHt.SavedSession
                        or TpmHt.Permanent or TpmHt.Transient or TpmHt.Persistent))
                        return TpmRc.Handle.ForParameter(2);
                    var set = new SortedSet<uint>();
                    var list = new List<uint>();
                    foreach (var s in tpm.Subsystems) s.ListHandles(type, list);
                    if (type == TpmHt.Permanent) list.AddRange(CapabilitySupport.PermanentHandles);
                    foreach (uint h in list)
                    {
                        // Saved sessions are reported by slot in the HMAC-session range (as the reference and
                        // swtpm do), so for them only the low 24 bits order and filter.
                        bool wanted = type == TpmHt.SavedSession
                            ? HandleKinds.TypeOf(h) == TpmHt.LoadedSession && (h & 0xFFFFFF) >= (p & 0xFFFFFF)
                            : HandleKinds.TypeOf(h) == type && h >= p;
                        if (wanted) set.Add(h);
                    }
                    int n = w.Take(set.Count, count, CapabilitySupport.MaxCapHandles);
                    foreach (uint h in set)
                    {
                        if (data.Handles.Count == n) break;
                        data.Handles.Handle[(int)data.Handles.Count++] = h;
                    }
                    break;
                }
            case TpmCap.Commands:
                {
                    // CommandTable.All is in code order.
                    int available = 0;
                    foreach (var d in CommandTable.All)
                        if ((uint)d.Code >= p) available++;
                    int n = w.Take(available, count, CapabilitySupport.MaxCapCc);
                    foreach (var d in CommandTable.All)
                    {
                        if ((uint)d.Code < p) continue;
                        if (data.Command.Count == n) break;
                        data.Command.CommandAttributes[(int)data.Command.Count++] = (TpmaCc)d.Info.TpmaCc;
                    }
                    break;
                }
            case TpmCap.PpCommands:
                {
                    int available = 0;
                    foreach (var d in CommandTable.All)
                        if (d.Has(CommandAttributes.PhysicalPresence) && (uint)d.Code >= p) available++;
                    int n = w.Take(available, count, CapabilitySupport.MaxCapCc);
                    foreach (var d in CommandTable.All)
                    {
                        if (!d.Has(CommandAttributes.PhysicalPresence) || (uint)d.Code < p) continue;
                        if (data.PpCommands.Count == n) break;
                        data.PpCommands.CommandCodes[(int)data.PpCommands.Count++] = d.Code;
                    }
                    break;
                }
            case TpmCap.AuditCommands:
                // No command is audited: command audit (TPM2_SetCommandCodeAuditStatus) is not implemented.
                break;
            case TpmCap.Pcrs:
                {
                    // The allocation in effect, every implemented bank (propertyCount does not limit it: moreData
                    // is NO); like libtpms, a pending TPM2_PCR_Allocate shows only after the TPM Reset that applies it.
                    ref var list = ref data.AssignedPCR;
                    foreach (var bank in PcrSubsystem.Banks)
                    {
                        ref var selection = ref list.PcrSelections[(int)list.Count++];
                        selection.Hash = bank;
                        selection.SizeofSelect = PcrSubsystem.SelectSize;
                        WriteMask(selection.PcrSelect, tpm.Pcr.ActiveMask(bank));
                    }
                    break;
                }
            case TpmCap.TpmProperties:
                {
                    // A common query (TSSs read the fixed group at start-up): straight into the inline list.
                    ref var list = ref data.TpmProperties;
                    int limit = (int)Math.Min(count, (uint)CapabilitySupport.MaxTpmProperties);
                    int available = 0;
                    foreach (var tag in CapabilitySupport.PropertyTags)
                    {
                        if ((uint)tag < p || CapabilitySupport.Property(tpm, tag) is not uint v) continue;
                        if (available++ < limit) list.TpmProperty[(int)list.Count++] = new TpmsTaggedProperty { Property = tag, Value = v };
                    }
                    w.Take(available, count, CapabilitySupport.MaxTpmProperties);
                    break;
                }
            case TpmCap.PcrProperties:
                {
                    ref var list = ref data.PcrProperties;
                    int available = 0;
                    for (uint tag = (uint)TpmPtPcr.Save; tag <= (uint)TpmPtPcr.Auth; tag++)
                        if (tag >= p && PcrSubsystem.PropertyMask((TpmPtPcr)tag) is not null) available++;
                    int n = w.Take(available, count, CapabilitySupport.MaxPcrProperties);
                    for (uint tag = (uint)TpmPtPcr.Save; tag <= (uint)TpmPtPcr.Auth && list.Count < n; tag++)
                    {
                        if (tag < p || PcrSubsystem.PropertyMask((TpmPtPcr)tag) is not uint mask) continue;
                        ref var entry = ref list.PcrProperty[(int)list.Count++];
                        entry.Tag = (TpmPtPcr)tag;
                        entry.SizeofSelect = PcrSubsystem.SelectSize;
                        WriteMask(entry.PcrSelect, mask);
                    }
                    break;
                }
            case TpmCap.EccCurves:
                // No ECC: TPML_ECC_CURVE is empty.
                break;
            case TpmCap.AuthPolicies:
                {
                    ref var list = ref data.AuthPolicies;
                    int available = 0;
                    foreach (uint h in PolicyHandles)
                        if (h >= p && tpm.TryGetEntity(h, out _)) available++;
                    int n = w.Take(available, count, CapabilitySupport.MaxTaggedPolicies);
                    foreach (uint h in PolicyHandles)
                    {
                        if (list.Count == n) break;
                        if (h < p || !tpm.TryGetEntity(h, out var e)) continue;
                        ref var entry = ref list.Policies[(int)list.Count++];
                        entry.Handle = h;
                        SetDigest(ref entry.PolicyHash, e.PolicyAlg, e.AuthPolicy);
                    }
                    break;
                }
            case TpmCap.Act:
                // No authenticated countdown timers are implemented: TPML_ACT_DATA is empty.
                break;
            default:
                // TPM_CAP_VENDOR_PROPERTY: a TPM_CAP, but this TPM has no vendor-specific capability.
                return TpmRc.Value.ForParameter(1);
        }
        output.MoreData = w.MoreData;
        return TpmRc.Success;
    }

    /// <summary>A PCR bit mask as a pcrSelect octet array (PCR 0 is bit 0 of the first octet, Part 2 §10.6.1).</summary>
    static void WriteMask(Span<byte> pcrSelect, uint mask)
    {
        for (int b = 0; b < PcrSubsystem.SelectSize; b++) pcrSelect[b] = (byte)(mask >> (8 * b));
    }

    /// <summary>A TPMT_HA: the algorithm, and the digest in the arm it selects (none for TPM_ALG_NULL).</summary>
    static void SetDigest(ref TpmtHa ha, TpmAlgId alg, ReadOnlySpan<byte> digest)
    {
        ha.HashAlg = alg;
        switch (alg)
        {
            case TpmAlgId.Sha1: digest.CopyTo(ha.Digest.Sha1); break;
            case TpmAlgId.Sha256: digest.CopyTo(ha.Digest.Sha256); break;
            case TpmAlgId.Sha384: digest.CopyTo(ha.Digest.Sha384); break;
            case TpmAlgId.Sha512: digest.CopyTo(ha.Digest.Sha512); break;
        }
    }

    /// <summary>Paging: min(available, propertyCount, the list's maximum); moreData if entries remain.</summary>
    struct Page
    {
        public byte MoreData { readonly get; private set; }

        public int Take(int available, uint requested, int max)
        {
            int n = (int)Math.Min((uint)Math.Min(available, max), requested);
            MoreData = n < available ? (byte)1 : (byte)0;
            return n;
        }
    }
}
