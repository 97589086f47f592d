using Vtpm.Tpm2.Commands.PCR;
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
/// (TryGetProperty). Response codes: TPM_RC_VALUE (parameter 1: unknown capability or
/// TPM_CAP_VENDOR_PROPERTY), TPM_RC_HANDLE (parameter 2: TPM_CAP_HANDLES with an unknown handle type).
/// </summary>
public static class GetCapability
{
    public readonly record struct In(TpmCap Capability, uint Property, uint PropertyCount);

    public static TpmRc Parse(ref CommandFrame f, out In input)
    {
        input = default;
        var rc = f.ReadUInt32(out uint cap);
        if (rc.IsError) return rc;
        rc = f.ReadUInt32(out uint property);
        if (rc.IsError) return rc;
        rc = f.ReadUInt32(out uint count);
        if (rc.IsError) return rc;
        if (cap > (uint)TpmCap.Act) return TpmRc.Value.ForParameter(1);
        input = new In((TpmCap)cap, property, count);
        return TpmRc.Success;
    }

    public static TpmRc Execute(Tpm2Engine tpm, ref CommandFrame f)
    {
        var rc = Parse(ref f, out var input);
        if (rc.IsError) return rc;
        uint count = input.PropertyCount;
        uint p = input.Property;
        var w = new Page();
        switch (input.Capability)
        {
            case TpmCap.Algs:
                {
                    // Lambdas capture a copy declared in this block, so only this case allocates a closure.
                    uint first = p;
                    var items = ImplementedAlgorithms.All.Where(a => (uint)a.Alg >= first).ToList();
                    int n = w.Take(items.Count, count, CapabilitySupport.MaxCapAlgs);
                    f.Response.WriteUInt8(w.MoreData);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)n);
                    foreach (var (alg, attributes) in items.Take(n))
                    {
                        f.Response.WriteUInt16((ushort)alg);
                        f.Response.WriteUInt32((uint)attributes);
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
                    WriteU32List(ref f.Response, input.Capability, [.. set], count, CapabilitySupport.MaxCapHandles, w);
                    break;
                }
            case TpmCap.Commands:
                {
                    uint first = p;
                    var items = CommandTable.All.Where(d => (uint)d.Code >= first).OrderBy(d => (uint)d.Code).ToList();
                    int n = w.Take(items.Count, count, CapabilitySupport.MaxCapCc);
                    f.Response.WriteUInt8(w.MoreData);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)n);
                    foreach (var d in items.Take(n)) f.Response.WriteUInt32(d.Info.TpmaCc);
                    break;
                }
            case TpmCap.PpCommands:
                {
                    uint first = p;
                    var codes = CommandTable.All.Where(d => d.Has(CommandAttributes.PhysicalPresence) && (uint)d.Code >= first)
                        .Select(d => (uint)d.Code).Order().ToList();
                    WriteU32List(ref f.Response, input.Capability, codes, count, CapabilitySupport.MaxCapCc, w);
                    break;
                }
            case TpmCap.AuditCommands:
                // No command is audited: command audit (TPM2_SetCommandCodeAuditStatus) is not implemented.
                WriteU32List(ref f.Response, input.Capability, [], count, CapabilitySupport.MaxCapCc, w);
                break;
            case TpmCap.Pcrs:
                {
                    // The allocation in effect, every implemented bank; like libtpms, a pending TPM2_PCR_Allocate
                    // shows only after the TPM Reset that applies it.
                    f.Response.WriteUInt8(0);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)PcrSubsystem.Banks.Count);
                    foreach (var bank in PcrSubsystem.Banks)
                        PcrSupport.WritePcrSelection(ref f.Response, bank, PcrSubsystem.SelectSize, tpm.Pcr.ActiveMask(bank));
                    break;
                }
            case TpmCap.TpmProperties:
                {
                    // A common query (TSSs read the fixed group at start-up): gathered on the stack, not in a list.
                    Span<(TpmPt Tag, uint Value)> items = stackalloc (TpmPt, uint)[CapabilitySupport.PropertyTags.Length];
                    int available = 0;
                    foreach (var tag in CapabilitySupport.PropertyTags)
                    {
                        if ((uint)tag < p) continue;
                        if (CapabilitySupport.Property(tpm, tag) is uint v) items[available++] = (tag, v);
                    }
                    int n = w.Take(available, count, CapabilitySupport.MaxTpmProperties);
                    f.Response.WriteUInt8(w.MoreData);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)n);
                    foreach (var (tag, v) in items[..n])
                    {
                        f.Response.WriteUInt32((uint)tag);
                        f.Response.WriteUInt32(v);
                    }
                    break;
                }
            case TpmCap.PcrProperties:
                {
                    var items = new List<(uint Tag, uint Mask)>();
                    for (uint tag = (uint)TpmPtPcr.Save; tag <= (uint)TpmPtPcr.Auth; tag++)
                        if (tag >= p && PcrSubsystem.PropertyMask((TpmPtPcr)tag) is uint m) items.Add((tag, m));
                    int n = w.Take(items.Count, count, CapabilitySupport.MaxPcrProperties);
                    f.Response.WriteUInt8(w.MoreData);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)n);
                    foreach (var (tag, mask) in items.Take(n))
                    {
                        f.Response.WriteUInt32(tag);
                        f.Response.WriteUInt8(PcrSubsystem.SelectSize);
                        for (int b = 0; b < PcrSubsystem.SelectSize; b++) f.Response.WriteUInt8((byte)(mask >> (8 * b)));
                    }
                    break;
                }
            case TpmCap.EccCurves:
                // No ECC: TPML_ECC_CURVE is empty.
                WriteEmpty(ref f.Response, input.Capability);
                break;
            case TpmCap.AuthPolicies:
                {
                    var items = new List<(uint Handle, AuthEntity Entity)>();
                    foreach (uint h in (uint[])[(uint)TpmRh.Owner, (uint)TpmRh.Lockout, (uint)TpmRh.Endorsement, (uint)TpmRh.Platform])
                        if (h >= p && tpm.TryGetEntity(h, out var e)) items.Add((h, e));
                    int n = w.Take(items.Count, count, CapabilitySupport.MaxTaggedPolicies);
                    f.Response.WriteUInt8(w.MoreData);
                    f.Response.WriteUInt32((uint)input.Capability);
                    f.Response.WriteUInt32((uint)n);
                    foreach (var (h, e) in items.Take(n))
                    {
                        f.Response.WriteUInt32(h);
                        f.Response.WriteUInt16((ushort)e.PolicyAlg);
                        f.Response.WriteBytes(e.AuthPolicy);
                    }
                    break;
                }
            case TpmCap.Act:
                // No authenticated countdown timers are implemented: TPML_ACT_DATA is empty.
                WriteEmpty(ref f.Response, input.Capability);
                break;
            default:
                return TpmRc.Value.ForParameter(1);
        }
        return TpmRc.Success;
    }

    static void WriteEmpty(ref TpmWriter w, TpmCap cap)
    {
        w.WriteUInt8(0);
        w.WriteUInt32((uint)cap);
        w.WriteUInt32(0);
    }

    static void WriteU32List(ref TpmWriter w, TpmCap cap, List<uint> items, uint count, int max, Page page)
    {
        int n = page.Take(items.Count, count, max);
        w.WriteUInt8(page.MoreData);
        w.WriteUInt32((uint)cap);
        w.WriteUInt32((uint)n);
        foreach (uint v in items.Take(n)) w.WriteUInt32(v);
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
