using System.Security.Cryptography;
using Vtpm.Tests.Support;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Differential;

/// <summary>
/// The command sequences sent byte for byte to swtpm and to vtpm. Each sequence starts on a fresh TPM
/// that has seen _TPM_Init but no TPM2_Startup. Offsets in <see cref="Match.From"/>/<see cref="Match.Range"/>
/// count from the start of the response (10-byte header first).
///
/// What is compared, and why it is deterministic:
/// - response codes and sizes of every command (Part 3 fixes both for a given input);
/// - digests (TPM2_Hash, sequences with a NULL-hierarchy ticket, which is the fixed null ticket), PCR values
///   after the same extends (the pcrUpdateCounter before them is skipped: which PCRs increment it is a
///   platform choice), NV contents, NV public areas and Names (pure functions of the definition);
/// - GetCapability answers the specs fix: TPM_PT_FAMILY_INDICATOR ("2.0"), TPM_PT_PCR_COUNT (24, PC Client),
///   the TPMA_ALGORITHM of SHA-256 and the TPMA_CC of GetRandom (Part 2), and the DA parameters just set.
///   Not compared: the algorithm/command/curve lists, PCR bank allocation, manufacturer, firmware version,
///   buffer sizes (all implementation choices).
/// - Random bytes, nonces, clocks, ticket HMACs (keyed with a per-TPM proof) and handle values are compared
///   by size only.
/// </summary>
public static class DiffSequences
{
    const uint Index = 0x01500016;
    const uint OwnerRwAuthRw = 0x00060006; // OWNERWRITE|AUTHWRITE|OWNERREAD|AUTHREAD
    const uint Counter = 0x10, Bits = 0x20, Extend = 0x40; // TPM_NT_* << 4
    const uint WriteStClear = 0x00004000, ReadStClear = 0x80000000;

    static Cmd Startup(TpmSu su = TpmSu.Clear) => Cmd.Of(TpmCc.Startup).U16((ushort)su);
    static DiffStep StartupClear => DiffStep.Of("Startup(CLEAR)", Startup(), 0);

    static Cmd DefineNv(uint index, uint attributes, ushort size, string auth = "", TpmAlgId nameAlg = TpmAlgId.Sha256) =>
        Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2(auth)
            .U16(14).U32(index).U16((ushort)nameAlg).U32(attributes).U16(0).U16(size);

    static Cmd NvWrite(uint index, byte[] data, ushort offset = 0, uint auth = Index, string pw = "") =>
        Cmd.Of(TpmCc.NvWrite).Handle(auth).Handle(index).Password(pw).B2(data).U16(offset);

    static Cmd NvRead(uint index, ushort size, ushort offset = 0, uint auth = Index, string pw = "") =>
        Cmd.Of(TpmCc.NvRead).Handle(auth).Handle(index).Password(pw).U16(size).U16(offset);

    static Cmd NvReadPublic(uint index) => Cmd.Of(TpmCc.NvReadPublic).Handle(index);

    static Cmd PcrExtend(uint pcr, TpmAlgId alg, byte[] digest) =>
        Cmd.Of(TpmCc.PcrExtend).Handle(pcr).Password().U32(1).U16((ushort)alg).Bytes(digest);

    static Cmd PcrRead(TpmAlgId bank, params int[] pcrs) => Cmd.Of(TpmCc.PcrRead).PcrSelection(bank, pcrs);

    static Cmd GetCap(TpmCap cap, uint property, uint count) => Cmd.Of(TpmCc.GetCapability).U32((uint)cap).U32(property).U32(count);

    static Cmd Hash(byte[] data, TpmAlgId alg, TpmRh hierarchy) => Cmd.Of(TpmCc.Hash).B2(data).U16((ushort)alg).U32((uint)hierarchy);

    static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new System.Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A command with its tag bytes replaced.</summary>
    static byte[] WithTag(Cmd cmd, ushort tag)
    {
        var b = cmd.Build();
        b[0] = (byte)(tag >> 8);
        b[1] = (byte)tag;
        return b;
    }

    /// <summary>Appends bytes after the parameters and fixes the size field (a complete but over-long command).</summary>
    static byte[] WithTrailing(Cmd cmd, params byte[] extra)
    {
        byte[] b = [.. cmd.Build(), .. extra];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), (uint)b.Length);
        return b;
    }

    public static readonly IReadOnlyList<DiffSequence> All =
    [
        new("StartupGate", "Part 3 §9.3: TPM_RC_INITIALIZE before Startup and on a second Startup",
        [
            DiffStep.Of("GetRandom before Startup", Cmd.Of(TpmCc.GetRandom).U16(8), 0x100),
            DiffStep.Of("PCR_Read before Startup", PcrRead(TpmAlgId.Sha256, 0), 0x100),
            StartupClear,
            DiffStep.Of("second Startup", Startup(), 0x100),
            DiffStep.Of("GetRandom 8", Cmd.Of(TpmCc.GetRandom).U16(8), 0, Match.Header),
        ]),
        new("HeaderErrors", "Part 3 §5: bad tag, unknown command code, parameter area too short or too long",
        [
            StartupClear,
            // Part 3 §5.2 says TPM_RC_BAD_TAG; libtpms 0.9 answers TPM_RC_VALUE (0x084).
            DiffStep.Of("tag 0x8003", WithTag(Cmd.Of(TpmCc.GetRandom).U16(8), 0x8003), 0x1E) with { SwtpmRc = 0x84 },
            DiffStep.Of("TPM 1.2 tag 0x00C1", WithTag(Cmd.Of(TpmCc.GetRandom).U16(8), 0x00C1), 0x1E) with { SwtpmRc = 0x84 },
            DiffStep.Of("unknown command 0x1FF", Cmd.Of((TpmCc)0x1FF), 0x143),
            DiffStep.Of("vendor command 0x20000000", Cmd.Of((TpmCc)0x20000000).U32(0), 0x143),
            DiffStep.Of("GetRandom without bytesRequested", Cmd.Of(TpmCc.GetRandom), 0x1DA),
            DiffStep.Of("GetRandom with 2 extra bytes", WithTrailing(Cmd.Of(TpmCc.GetRandom).U16(8), 0, 0), 0x95),
            DiffStep.Of("sessions tag on a command without sessions area", WithTag(Cmd.Of(TpmCc.GetRandom).U16(8), 0x8002), 0x9A),
            DiffStep.Of("NV_DefineSpace without sessions", WithTag(DefineNv(Index, OwnerRwAuthRw, 8), 0x8001), 0x125),
        ]),
        new("RandomAndSelfTest", "GetRandom caps at the largest digest (Part 3 §16.1); self tests pass; TestParms of AES-128-CFB",
        [
            StartupClear,
            DiffStep.Of("GetRandom 0", Cmd.Of(TpmCc.GetRandom).U16(0), 0, Match.Exact),
            DiffStep.Of("GetRandom 32", Cmd.Of(TpmCc.GetRandom).U16(32), 0, Match.Header),
            DiffStep.Of("GetRandom 1000 is capped", Cmd.Of(TpmCc.GetRandom).U16(1000), 0, Match.Header),
            DiffStep.Of("StirRandom 16 bytes", Cmd.Of(TpmCc.StirRandom).B2(Bytes(16, 1)), 0),
            DiffStep.Of("StirRandom 129 bytes", Cmd.Of(TpmCc.StirRandom).B2(Bytes(129, 2)), 0x1D5),
            DiffStep.Of("SelfTest(full)", Cmd.Of(TpmCc.SelfTest).U8(1), 0),
            DiffStep.Of("IncrementalSelfTest(SHA-256)", Cmd.Of(TpmCc.IncrementalSelfTest).U32(1).U16((ushort)TpmAlgId.Sha256), 0, Match.Rc),
            DiffStep.Of("GetTestResult", Cmd.Of(TpmCc.GetTestResult), 0, Match.Rc),
            DiffStep.Of("TestParms AES-128-CFB", Cmd.Of(TpmCc.TestParms).U16((ushort)TpmAlgId.Symcipher).U16((ushort)TpmAlgId.Aes).U16(128).U16((ushort)TpmAlgId.Cfb), 0),
            DiffStep.Of("TestParms AES-192-CFB", Cmd.Of(TpmCc.TestParms).U16((ushort)TpmAlgId.Symcipher).U16((ushort)TpmAlgId.Aes).U16(192).U16((ushort)TpmAlgId.Cfb), 0x1C4),
            DiffStep.Of("TestParms XOR with a NULL hash", Cmd.Of(TpmCc.TestParms).U16((ushort)TpmAlgId.Keyedhash).U16((ushort)TpmAlgId.Xor).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Kdf1Sp800108), 0x1C3),
        ]),
        new("Capabilities", "Values Part 2 and the PC Client profile fix (see class comment)",
        [
            StartupClear,
            DiffStep.Of("TPM_PT_FAMILY_INDICATOR", GetCap(TpmCap.TpmProperties, (uint)TpmPt.FamilyIndicator, 1), 0),
            DiffStep.Of("TPM_PT_PCR_COUNT", GetCap(TpmCap.TpmProperties, (uint)TpmPt.PcrCount, 1), 0),
            DiffStep.Of("TPMA_ALGORITHM of SHA-256", GetCap(TpmCap.Algs, (uint)TpmAlgId.Sha256, 1), 0),
            DiffStep.Of("TPMA_CC of GetRandom", GetCap(TpmCap.Commands, (uint)TpmCc.GetRandom, 1), 0),
            DiffStep.Of("capability 0x100", GetCap((TpmCap)0x100, 0, 1), 0x1C4),
            DiffStep.Of("capability 0x50, nothing after it", Cmd.Of(TpmCc.GetCapability).U32(0x50), 0x1C4),
        ]),
        new("Hash", "TPM2_Hash digests; a NULL-hierarchy ticket is the fixed null ticket (Part 3 §15.4)",
        [
            StartupClear,
            DiffStep.Of("SHA-256 of 'abc', null ticket", Hash("abc"u8.ToArray(), TpmAlgId.Sha256, TpmRh.Null), 0),
            DiffStep.Of("SHA-1 of 1024 bytes, null ticket", Hash(Bytes(1024, 3), TpmAlgId.Sha1, TpmRh.Null), 0),
            DiffStep.Of("SHA-384 of empty", Hash([], TpmAlgId.Sha384, TpmRh.Null), 0),
            // Owner ticket: digest (bytes 10..44) fixed, ticket HMAC keyed by the TPM's proof.
            DiffStep.Of("SHA-256 owner ticket", Hash(Bytes(100, 4), TpmAlgId.Sha256, TpmRh.Owner), 0, Match.Range, 10, 44),
            DiffStep.Of("1025 bytes is too large", Hash(Bytes(1025, 5), TpmAlgId.Sha256, TpmRh.Null), 0x1D5),
            DiffStep.Of("unknown hash algorithm", Hash([1], (TpmAlgId)0x99, TpmRh.Null), 0x2C3),
            DiffStep.Of("TPM_ALG_NULL", Hash([1], TpmAlgId.Null, TpmRh.Null), 0x2C3),
        ]),
        new("HashSequence", "HashSequenceStart/SequenceUpdate/SequenceComplete give the same digest as one Hash",
        [
            StartupClear,
            new("HashSequenceStart SHA-256", _ => Cmd.Of(TpmCc.HashSequenceStart).B2("").U16((ushort)TpmAlgId.Sha256).Build(), 0, Match.Header, ReturnsHandle: true),
            new("SequenceUpdate 1500 bytes", c => Cmd.Of(TpmCc.SequenceUpdate).Handle(c.Handle).Password().B2(Bytes(1000, 6)).Build(), 0),
            new("SequenceComplete, null ticket", c => Cmd.Of(TpmCc.SequenceComplete).Handle(c.Handle).Password().B2(Bytes(500, 7)).U32((uint)TpmRh.Null).Build(), 0),
            new("sequence handle is gone", c => Cmd.Of(TpmCc.SequenceUpdate).Handle(c.Handle).Password().B2([1]).Build(), 0x910),
        ]),
        new("PcrExtendAndRead", "PCR values after identical extends (Part 3 §22.2, §22.4); update counter skipped",
        [
            StartupClear,
            DiffStep.Of("extend PCR 0 SHA-256", PcrExtend(0, TpmAlgId.Sha256, SHA256.HashData("a"u8)), 0),
            DiffStep.Of("extend PCR 0 SHA-256 again", PcrExtend(0, TpmAlgId.Sha256, SHA256.HashData("b"u8)), 0),
            DiffStep.Of("extend PCR 7 SHA-1", PcrExtend(7, TpmAlgId.Sha1, SHA1.HashData("c"u8)), 0),
            DiffStep.Of("read SHA-256 0,1,16,17", PcrRead(TpmAlgId.Sha256, 0, 1, 16, 17), 0, Match.From, 14),
            DiffStep.Of("read SHA-1 7", PcrRead(TpmAlgId.Sha1, 7), 0, Match.From, 14),
            DiffStep.Of("PCR_Event 16", Cmd.Of(TpmCc.PcrEvent).Handle(16u).Password().B2("event"u8), 0, Match.Rc),
            DiffStep.Of("reset PCR 16", Cmd.Of(TpmCc.PcrReset).Handle(16u).Password(), 0),
            DiffStep.Of("reset PCR 0 at locality 0", Cmd.Of(TpmCc.PcrReset).Handle(0u).Password(), 0x907),
            DiffStep.Of("read SHA-256 16", PcrRead(TpmAlgId.Sha256, 16), 0, Match.From, 14),
            DiffStep.Of("extend PCR 24 (no such PCR)", PcrExtend(24, TpmAlgId.Sha256, new byte[32]), 0x184),
            DiffStep.Of("extend with a short digest", Cmd.Of(TpmCc.PcrExtend).Handle(1u).Password().U32(1).U16((ushort)TpmAlgId.Sha256).Bytes(new byte[20]), 0x1DA),
        ]),
        new("ResumeRestoresPcrs", "Shutdown(STATE), _TPM_Init, Startup(STATE) resumes PCRs (Part 1 §12.2.3)",
        [
            StartupClear,
            DiffStep.Of("extend PCR 5", PcrExtend(5, TpmAlgId.Sha256, SHA256.HashData("resume"u8)), 0),
            DiffStep.Of("Shutdown(STATE)", Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.State), 0),
            DiffStep.Cycle(),
            DiffStep.Of("Startup(STATE)", Startup(TpmSu.State), 0),
            DiffStep.Of("read PCR 5", PcrRead(TpmAlgId.Sha256, 5), 0, Match.From, 14),
        ]),
        new("ResetWithoutSavedState", "Startup(STATE) after Shutdown(CLEAR) is TPM_RC_VALUE; Startup(CLEAR) resets PCRs",
        [
            StartupClear,
            DiffStep.Of("extend PCR 5", PcrExtend(5, TpmAlgId.Sha256, SHA256.HashData("x"u8)), 0),
            DiffStep.Of("Shutdown(CLEAR)", Cmd.Of(TpmCc.Shutdown).U16((ushort)TpmSu.Clear), 0),
            DiffStep.Cycle(),
            DiffStep.Of("Startup(STATE)", Startup(TpmSu.State), 0x1C4),
            DiffStep.Of("Startup(CLEAR)", Startup(), 0),
            DiffStep.Of("read PCR 5", PcrRead(TpmAlgId.Sha256, 5), 0, Match.From, 14),
        ]),
        new("NvOrdinary", "NV public area, Name and contents are functions of the definition and the writes (Part 3 §31)",
        [
            StartupClear,
            DiffStep.Of("define 32-byte index", DefineNv(Index, OwnerRwAuthRw, 32), 0),
            DiffStep.Of("define it again", DefineNv(Index, OwnerRwAuthRw, 32), 0x14C),
            DiffStep.Of("NV_ReadPublic", NvReadPublic(Index), 0),
            DiffStep.Of("read before write", NvRead(Index, 4), 0x14A),
            DiffStep.Of("write 10 bytes at 0", NvWrite(Index, Bytes(10, 8)), 0),
            DiffStep.Of("write 5 bytes at 20", NvWrite(Index, Bytes(5, 9), 20), 0),
            DiffStep.Of("NV_ReadPublic after write", NvReadPublic(Index), 0),
            DiffStep.Of("read 32", NvRead(Index, 32), 0),
            DiffStep.Of("read 8 at 4 as owner", NvRead(Index, 8, 4, (uint)TpmRh.Owner), 0),
            DiffStep.Of("write past the end", NvWrite(Index, Bytes(8, 10), 30), 0x146),
            DiffStep.Of("read past the end", NvRead(Index, 8, 30), 0x146),
            DiffStep.Of("write larger than the index", NvWrite(Index, Bytes(33, 11)), 0x146),
            DiffStep.Of("read an undefined index", NvRead(0x01500099, 4, 0, 0x01500099), 0x18B),
            DiffStep.Of("undefine", Cmd.Of(TpmCc.NvUndefineSpace).Handle(TpmRh.Owner).Handle(Index).Password(), 0),
            DiffStep.Of("NV_ReadPublic of the undefined index", NvReadPublic(Index), 0x18B),
        ]),
        new("NvDefineSpaceDataSize", "TPMS_NV_PUBLIC.dataSize above MAX_NV_INDEX_SIZE is refused by its unmarshal (Part 2 §13.5: TPM_RC_SIZE, parameter 2), before NV_DefineSpace checks auth, attributes or the hierarchy (Part 3 §31.3)",
        [
            StartupClear,
            DiffStep.Of("4096 bytes, auth longer than the nameAlg digest", DefineNv(Index, OwnerRwAuthRw, 4096, new string('a', 40)), 0x2D5),
            DiffStep.Of("MAX_NV_INDEX_SIZE + 1, auth longer than the nameAlg digest", DefineNv(Index, OwnerRwAuthRw, 2049, new string('a', 40)), 0x2D5),
            DiffStep.Of("MAX_NV_INDEX_SIZE, auth longer than the nameAlg digest", DefineNv(Index, OwnerRwAuthRw, 2048, new string('a', 40)), 0x1D5),
            DiffStep.Of("4096 bytes, WRITELOCKED", DefineNv(Index, OwnerRwAuthRw | 0x800, 4096), 0x2D5),
            DiffStep.Of("4096 bytes, PLATFORMCREATE by the owner", DefineNv(Index, OwnerRwAuthRw | 0x40000000, 4096), 0x2D5),
            DiffStep.Of("4096 bytes, TPM_NT 3", DefineNv(Index, OwnerRwAuthRw | 0x30, 4096), 0x2D5),
            DiffStep.Of("the index is not defined", NvReadPublic(Index), 0x18B),
            DiffStep.Of("disable phEnableNV", Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.PlatformNv).U8(0), 0),
            DiffStep.Of("platform index of 4096 bytes with phEnableNV clear", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Platform).Password().B2("")
                .U16(14).U32(0x01C00010).U16((ushort)TpmAlgId.Sha256).U32(0x40010001).U16(0).U16(4096), 0x2D5),
            DiffStep.Of("platform index of 8 bytes with phEnableNV clear", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Platform).Password().B2("")
                .U16(14).U32(0x01C00010).U16((ushort)TpmAlgId.Sha256).U32(0x40010001).U16(0).U16(8), 0x185),
        ]),
        new("NvTrailingBytes", "Bytes after an NV command's last parameter are TPM_RC_SIZE before the command acts (Part 3 §5.8, Parameter Unmarshaling: the parameter area is unmarshalled, and must be used up, before the command executes): nothing is defined, written or undefined, and the size error wins over the command's own checks",
        [
            StartupClear,
            DiffStep.Of("NV_DefineSpace with a byte more", WithTrailing(DefineNv(Index, OwnerRwAuthRw, 8), 0), 0x95),
            DiffStep.Of("not defined", NvReadPublic(Index), 0x18B),
            DiffStep.Of("define it", DefineNv(Index, OwnerRwAuthRw, 8), 0),
            DiffStep.Of("NV_Write with a byte more", WithTrailing(NvWrite(Index, Bytes(4, 23)), 0), 0x95),
            DiffStep.Of("not written", NvRead(Index, 4), 0x14A),
            DiffStep.Of("NV_Read of the unwritten index with a byte more", WithTrailing(NvRead(Index, 4), 0), 0x95),
            DiffStep.Of("NV_ReadPublic with a byte more", WithTrailing(NvReadPublic(Index), 0), 0x95),
            DiffStep.Of("NV_Increment of an ordinary index with a byte more", WithTrailing(Cmd.Of(TpmCc.NvIncrement).Handle(Index).Handle(Index).Password(), 0), 0x95),
            DiffStep.Of("NV_SetBits of an ordinary index with a byte more", WithTrailing(Cmd.Of(TpmCc.NvSetBits).Handle(Index).Handle(Index).Password().U64(1), 0), 0x95),
            DiffStep.Of("NV_Extend of an ordinary index with a byte more", WithTrailing(Cmd.Of(TpmCc.NvExtend).Handle(Index).Handle(Index).Password().B2("a"), 0), 0x95),
            DiffStep.Of("NV_WriteLock without a lock attribute, with a byte more", WithTrailing(Cmd.Of(TpmCc.NvWriteLock).Handle(Index).Handle(Index).Password(), 0), 0x95),
            DiffStep.Of("NV_ReadLock without READ_STCLEAR, with a byte more", WithTrailing(Cmd.Of(TpmCc.NvReadLock).Handle(Index).Handle(Index).Password(), 0), 0x95),
            DiffStep.Of("NV_GlobalWriteLock with a byte more", WithTrailing(Cmd.Of(TpmCc.NvGlobalWriteLock).Handle(TpmRh.Owner).Password(), 0), 0x95),
            DiffStep.Of("NV_UndefineSpace with a byte more", WithTrailing(Cmd.Of(TpmCc.NvUndefineSpace).Handle(TpmRh.Owner).Handle(Index).Password(), 0), 0x95),
            DiffStep.Of("still defined, not locked", NvReadPublic(Index), 0),
            DiffStep.Of("write it", NvWrite(Index, Bytes(4, 24)), 0),
        ]),
        new("NvPasswords", "Index authValue: right password works, wrong one is TPM_RC_AUTH_FAIL (DA-protected)",
        [
            StartupClear,
            DiffStep.Of("define with auth", DefineNv(Index, 0x00040004, 16, "idxpw"), 0),
            DiffStep.Of("write with password", NvWrite(Index, Bytes(16, 12), 0, Index, "idxpw"), 0),
            DiffStep.Of("read with password", NvRead(Index, 16, 0, Index, "idxpw"), 0),
            DiffStep.Of("read with wrong password", NvRead(Index, 16, 0, Index, "nope"), 0x98E),
            DiffStep.Of("read as owner without OWNERREAD", NvRead(Index, 16, 0, (uint)TpmRh.Owner), 0x149),
            DiffStep.Of("lockout counter is 1", GetCap(TpmCap.TpmProperties, 0x20E, 1), 0),
        ]),
        new("NvCounterBitsExtend", "Counter (first value 1 on a fresh TPM), bits, extend index arithmetic",
        [
            StartupClear,
            DiffStep.Of("define counter", DefineNv(Index, OwnerRwAuthRw | Counter, 8), 0),
            DiffStep.Of("read unwritten counter", NvRead(Index, 8), 0x14A),
            DiffStep.Of("increment", Cmd.Of(TpmCc.NvIncrement).Handle(Index).Handle(Index).Password(), 0),
            DiffStep.Of("increment again", Cmd.Of(TpmCc.NvIncrement).Handle(Index).Handle(Index).Password(), 0),
            DiffStep.Of("read counter", NvRead(Index, 8), 0),
            DiffStep.Of("NV_Write to a counter", NvWrite(Index, new byte[8]), 0x82),
            DiffStep.Of("define counter of size 4", DefineNv(Index + 1, OwnerRwAuthRw | Counter, 4), 0x2D5),
            DiffStep.Of("define bits", DefineNv(Index + 2, OwnerRwAuthRw | Bits, 8), 0),
            DiffStep.Of("set bits 0x5", Cmd.Of(TpmCc.NvSetBits).Handle(Index + 2).Handle(Index + 2).Password().U64(5), 0),
            DiffStep.Of("set bits 0x8000000000000100", Cmd.Of(TpmCc.NvSetBits).Handle(Index + 2).Handle(Index + 2).Password().U64(0x8000000000000100), 0),
            DiffStep.Of("read bits", NvRead(Index + 2, 8, 0, Index + 2), 0),
            DiffStep.Of("define extend", DefineNv(Index + 3, OwnerRwAuthRw | Extend, 32), 0),
            DiffStep.Of("extend 'one'", Cmd.Of(TpmCc.NvExtend).Handle(Index + 3).Handle(Index + 3).Password().B2("one"u8), 0),
            DiffStep.Of("extend 100 bytes", Cmd.Of(TpmCc.NvExtend).Handle(Index + 3).Handle(Index + 3).Password().B2(Bytes(100, 13)), 0),
            DiffStep.Of("read extend", NvRead(Index + 3, 32, 0, Index + 3), 0),
            DiffStep.Of("NV_ReadPublic extend", NvReadPublic(Index + 3), 0),
            DiffStep.Of("increment an extend index", Cmd.Of(TpmCc.NvIncrement).Handle(Index + 3).Handle(Index + 3).Password(), 0x282),
        ]),
        new("NvLocks", "WRITE_STCLEAR/READ_STCLEAR locks give TPM_RC_NV_LOCKED until Startup(CLEAR)",
        [
            StartupClear,
            DiffStep.Of("define write_stclear", DefineNv(Index, OwnerRwAuthRw | WriteStClear, 8), 0),
            DiffStep.Of("write", NvWrite(Index, Bytes(8, 14)), 0),
            DiffStep.Of("write lock", Cmd.Of(TpmCc.NvWriteLock).Handle(Index).Handle(Index).Password(), 0),
            DiffStep.Of("write when locked", NvWrite(Index, Bytes(8, 15)), 0x148),
            DiffStep.Of("read when write-locked", NvRead(Index, 8), 0),
            DiffStep.Of("NV_ReadPublic shows WRITELOCKED", NvReadPublic(Index), 0),
            DiffStep.Of("define read_stclear", DefineNv(Index + 1, OwnerRwAuthRw | ReadStClear, 8), 0),
            DiffStep.Of("write it", NvWrite(Index + 1, Bytes(8, 16), 0, Index + 1), 0),
            DiffStep.Of("read lock", Cmd.Of(TpmCc.NvReadLock).Handle(Index + 1).Handle(Index + 1).Password(), 0),
            DiffStep.Of("read when locked", NvRead(Index + 1, 8, 0, Index + 1), 0x148),
            DiffStep.Of("read lock an index without READ_STCLEAR", Cmd.Of(TpmCc.NvReadLock).Handle(Index).Handle(Index).Password(), 0x282),
            DiffStep.Of("Shutdown(CLEAR)", Cmd.Of(TpmCc.Shutdown).U16(0), 0),
            DiffStep.Cycle(),
            StartupClear,
            DiffStep.Of("write after reset", NvWrite(Index, Bytes(8, 17)), 0),
            DiffStep.Of("read after reset", NvRead(Index + 1, 8, 0, Index + 1), 0),
        ]),
        new("AdminRoleNeedsAPolicySession", "NV_ChangeAuth's nvIndex has the ADMIN role: a password is TPM_RC_AUTH_TYPE, right or wrong, and costs no DA failure (Part 1 §19.2)",
        [
            StartupClear,
            DiffStep.Of("define with auth 'pw'", DefineNv(Index, OwnerRwAuthRw, 8, "pw"), 0),
            DiffStep.Of("change auth with the right password", Cmd.Of(TpmCc.NvChangeAuth).Handle(Index).Password("pw").B2("new"), 0x124),
            DiffStep.Of("change auth with a wrong password", Cmd.Of(TpmCc.NvChangeAuth).Handle(Index).Password("bad").B2("new"), 0x124),
            DiffStep.Of("read DA lockout counter", GetCap(TpmCap.TpmProperties, (uint)TpmPt.LockoutCounter, 1), 0),
            DiffStep.Of("the old password still authorizes (the index is unwritten)", NvRead(Index, 0, 0, Index, "pw"), 0x14A),
        ]),
        new("SizedStructureSizes", "A TPM2B holding a structure must be exactly the size it says: smaller or larger is TPM_RC_SIZE (Part 2 §10.4 size=)",
        [
            StartupClear,
            DiffStep.Of("TPM2B_NV_PUBLIC size 13 for 14 octets", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2("")
                .U16(13).U32(Index).U16((ushort)TpmAlgId.Sha256).U32(OwnerRwAuthRw).U16(0).U16(8), 0x2D5),
            DiffStep.Of("TPM2B_NV_PUBLIC size 15 for 14 octets", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password().B2("")
                .U16(15).U32(Index).U16((ushort)TpmAlgId.Sha256).U32(OwnerRwAuthRw).U16(0).U16(8), 0x2D5),
            DiffStep.Of("TPM2B_NV_PUBLIC of the right size", DefineNv(Index, OwnerRwAuthRw, 8), 0),
        ]),
        new("HierarchyAuthAndDa", "HierarchyChangeAuth, DictionaryAttackParameters, Clear (Part 3 §24, §25)",
        [
            StartupClear,
            DiffStep.Of("owner auth := 'own'", Cmd.Of(TpmCc.HierarchyChangeAuth).Handle(TpmRh.Owner).Password().B2("own"), 0),
            DiffStep.Of("define with empty owner auth", DefineNv(Index, OwnerRwAuthRw, 8), 0x9A2),
            DiffStep.Of("define with 'own'", Cmd.Of(TpmCc.NvDefineSpace).Handle(TpmRh.Owner).Password("own").B2("").U16(14).U32(Index).U16((ushort)TpmAlgId.Sha256).U32(OwnerRwAuthRw).U16(0).U16(8), 0),
            DiffStep.Of("DA parameters 7/100/200", Cmd.Of(TpmCc.DictionaryAttackParameters).Handle(TpmRh.Lockout).Password().U32(7).U32(100).U32(200), 0),
            DiffStep.Of("read DA properties", GetCap(TpmCap.TpmProperties, (uint)TpmPt.MaxAuthFail, 3), 0),
            DiffStep.Of("DA lock reset", Cmd.Of(TpmCc.DictionaryAttackLockReset).Handle(TpmRh.Lockout).Password(), 0),
            DiffStep.Of("Clear", Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password(), 0),
            DiffStep.Of("index gone after Clear", NvReadPublic(Index), 0x18B),
            DiffStep.Of("define with empty owner auth after Clear", DefineNv(Index, OwnerRwAuthRw, 8), 0),
            DiffStep.Of("ClockSet forwards", Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(100_000_000), 0),
            DiffStep.Of("ClockSet backwards", Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(1), 0x1C4),
            DiffStep.Of("ReadClock", Cmd.Of(TpmCc.ReadClock), 0, Match.Header),
        ]),
        new("PlatformControls", "HierarchyControl, ClearControl, GlobalWriteLock, ClockRateAdjust, ChangeEPS/PPS, EventSequenceComplete (Part 3 §24, §25, §29, §31.11)",
        [
            StartupClear,
            DiffStep.Of("disable owner hierarchy", Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.Owner).U8(0), 0),
            DiffStep.Of("define under disabled owner", DefineNv(Index, OwnerRwAuthRw, 8), 0x185),
            DiffStep.Of("enable owner from owner", Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Owner).Password().U32((uint)TpmRh.Owner).U8(1), 0x185),
            DiffStep.Of("enable owner hierarchy", Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.Owner).U8(1), 0),
            DiffStep.Of("define with GLOBALLOCK", DefineNv(Index, OwnerRwAuthRw | 0x00008000, 8), 0),
            DiffStep.Of("write it", NvWrite(Index, Bytes(8, 21)), 0),
            DiffStep.Of("NV_GlobalWriteLock", Cmd.Of(TpmCc.NvGlobalWriteLock).Handle(TpmRh.Owner).Password(), 0),
            DiffStep.Of("write after global lock", NvWrite(Index, Bytes(8, 22)), 0x148),
            DiffStep.Of("ClearControl(platform, YES)", Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Platform).Password().U8(1), 0),
            DiffStep.Of("Clear when disabled", Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password(), 0x120),
            DiffStep.Of("ClearControl(lockout, NO) is for the platform only", Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Lockout).Password().U8(0), 0x8E),
            DiffStep.Of("ClearControl(platform, NO)", Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Platform).Password().U8(0), 0),
            DiffStep.Of("Clear", Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password(), 0),
            DiffStep.Of("ClockRateAdjust no change", Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(0), 0),
            DiffStep.Of("ClockRateAdjust invalid", Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(9), 0x1C4),
            DiffStep.Of("SetPrimaryPolicy(owner)", Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Owner).Password().B2(SHA256.HashData("p"u8)).U16((ushort)TpmAlgId.Sha256), 0),
            DiffStep.Of("SetPrimaryPolicy wrong size", Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Owner).Password().B2(new byte[20]).U16((ushort)TpmAlgId.Sha256), 0x1D5),
            DiffStep.Of("ChangePPS", Cmd.Of(TpmCc.ChangePPS).Handle(TpmRh.Platform).Password(), 0),
            DiffStep.Of("ChangeEPS", Cmd.Of(TpmCc.ChangeEPS).Handle(TpmRh.Platform).Password(), 0),
            new("HashSequenceStart for an event sequence", _ => Cmd.Of(TpmCc.HashSequenceStart).B2("").U16((ushort)TpmAlgId.Null).Build(), 0, Match.Header, ReturnsHandle: true),
            new("SequenceUpdate", c => Cmd.Of(TpmCc.SequenceUpdate).Handle(c.Handle).Password().B2("event"u8).Build(), 0),
            new("EventSequenceComplete into PCR 16", c => Cmd.Of(TpmCc.EventSequenceComplete).Handle(16u).Handle(c.Handle).Password().Password().B2("").Build(), 0, Match.Rc),
            DiffStep.Of("read SHA-256 PCR 16", PcrRead(TpmAlgId.Sha256, 16), 0, Match.From, 14),
        ]),
        new("PcrAllocateAndAuth", "PCR_Allocate of all four banks explicitly, effective after _TPM_Init (Part 3 §22.5); PCR_SetAuthValue/Policy",
        [
            StartupClear,
            DiffStep.Of("PCR_Allocate SHA-256 only", Cmd.Of(TpmCc.PcrAllocate).Handle(TpmRh.Platform).Password()
                .U32(4)
                .U16((ushort)TpmAlgId.Sha1).U8(3).Bytes([0, 0, 0])
                .U16((ushort)TpmAlgId.Sha256).U8(3).Bytes([0xFF, 0xFF, 0xFF])
                .U16((ushort)TpmAlgId.Sha384).U8(3).Bytes([0, 0, 0])
                .U16((ushort)TpmAlgId.Sha512).U8(3).Bytes([0, 0, 0]), 0, Match.Rc),
            DiffStep.Of("PCR_Allocate from owner", Cmd.Of(TpmCc.PcrAllocate).Handle(TpmRh.Owner).Password().U32(0), 0x184),
            DiffStep.Of("extend SHA-1 before the restart", PcrExtend(3, TpmAlgId.Sha1, new byte[20]), 0),
            DiffStep.Of("Shutdown(CLEAR)", Cmd.Of(TpmCc.Shutdown).U16(0), 0),
            DiffStep.Cycle(),
            StartupClear,
            // Both implement exactly SHA-1/256/384/512, so the allocation answer is the same list.
            DiffStep.Of("TPM_CAP_PCRS", GetCap(TpmCap.Pcrs, 0, 1), 0),
            DiffStep.Of("extend SHA-256", PcrExtend(3, TpmAlgId.Sha256, SHA256.HashData("after"u8)), 0),
            DiffStep.Of("read SHA-256 3", PcrRead(TpmAlgId.Sha256, 3), 0, Match.From, 14),
            DiffStep.Of("read SHA-1 3 (bank gone: empty selection)", PcrRead(TpmAlgId.Sha1, 3), 0, Match.From, 14),
            DiffStep.Of("PCR_SetAuthValue PCR 0 (no auth group)", Cmd.Of(TpmCc.PcrSetAuthValue).Handle(0u).Password().B2("pcrpw"), 0x84),
            DiffStep.Of("PCR_SetAuthPolicy PCR 0 (no policy group)", Cmd.Of(TpmCc.PcrSetAuthPolicy).Handle(TpmRh.Platform).Password().B2(new byte[32]).U16((ushort)TpmAlgId.Sha256).U32(0), 0x3C4),
        ]),
        new("TrailingParameterBytes", "Parameters are unmarshalled and checked, then bytes left over are TPM_RC_SIZE before the command acts (Part 3 §5.2; the reference's command dispatch)",
        [
            StartupClear,
            // A bad value is the unmarshal's answer (the reference's TPM_CLOCK_ADJUST_Unmarshal), ahead of the leftover bytes.
            DiffStep.Of("ClockRateAdjust 9, one byte more", WithTrailing(Cmd.Of(TpmCc.ClockRateAdjust).Handle(TpmRh.Owner).Password().U8(9), 0), 0x1C4),
            DiffStep.Of("HierarchyControl of TPM_RH_NULL, one byte more", WithTrailing(Cmd.Of(TpmCc.HierarchyControl).Handle(TpmRh.Platform).Password().U32((uint)TpmRh.Null).U8(0), 0), 0x1C4),
            DiffStep.Of("Hash with TPM_ALG_NULL, one byte more", WithTrailing(Hash([1], TpmAlgId.Null, TpmRh.Null), 0), 0x2C3),
            // The command's own checks come after: the leftover bytes are answered first, and nothing changes.
            DiffStep.Of("ClockSet forwards", Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(100_000_000), 0),
            DiffStep.Of("ClockSet backwards, one byte more", WithTrailing(Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(1), 0), 0x95),
            DiffStep.Of("SetPrimaryPolicy of a wrong size, one byte more", WithTrailing(Cmd.Of(TpmCc.SetPrimaryPolicy).Handle(TpmRh.Owner).Password().B2(new byte[20]).U16((ushort)TpmAlgId.Sha256), 0), 0x95),
            DiffStep.Of("PCR_Extend of PCR 16, one byte more", WithTrailing(PcrExtend(16, TpmAlgId.Sha256, SHA256.HashData("x"u8)), 0), 0x95),
            DiffStep.Of("PCR 16 is not extended", PcrRead(TpmAlgId.Sha256, 16), 0, Match.From, 14),
            DiffStep.Of("owner auth := 'own', one byte more", WithTrailing(Cmd.Of(TpmCc.HierarchyChangeAuth).Handle(TpmRh.Owner).Password().B2("own"), 0), 0x95),
            DiffStep.Of("the empty owner auth still works", Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(200_000_000), 0),
            DiffStep.Of("ClearControl(platform, YES), one byte more", WithTrailing(Cmd.Of(TpmCc.ClearControl).Handle(TpmRh.Platform).Password().U8(1), 0), 0x95),
            DiffStep.Of("Clear, one byte more", WithTrailing(Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password(), 0), 0x95),
            DiffStep.Of("Clock was not cleared (and disableClear not set)", Cmd.Of(TpmCc.ClockSet).Handle(TpmRh.Owner).Password().U64(150_000_000), 0x1C4),
            DiffStep.Of("Clear", Cmd.Of(TpmCc.Clear).Handle(TpmRh.Lockout).Password(), 0),
        ]),
        new("Sessions", "StartAuthSession (unbound, unsalted HMAC) and FlushContext (Part 3 §11.1, §28.4)",
        [
            StartupClear,
            new("StartAuthSession HMAC SHA-256", _ => Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
                .B2(Bytes(16, 18)).B2("").U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256).Build(), 0, Match.Header, ReturnsHandle: true),
            new("ContextSave the session", c => Cmd.Of(TpmCc.ContextSave).Handle(c.Handle).Build(), 0, Match.Rc),
            new("FlushContext the session", c => Cmd.Of(TpmCc.FlushContext).U32(c.Handle).Build(), 0),
            new("FlushContext again", c => Cmd.Of(TpmCc.FlushContext).U32(c.Handle).Build(), 0x1CB),
            new("FlushContext with a trailing byte", c => WithTrailing(Cmd.Of(TpmCc.FlushContext).U32(c.Handle), 0), 0x95),
            DiffStep.Of("nonceCaller of 8 bytes", Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
                .B2(Bytes(8, 19)).B2("").U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256), 0x1D5),
            DiffStep.Of("session type 7", Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
                .B2(Bytes(16, 20)).B2("").U8(7).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256), 0x3C4),
            DiffStep.Of("AES-192 session", Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
                .B2(Bytes(16, 21)).B2("").U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Aes).U16(192).U16((ushort)TpmAlgId.Cfb).U16((ushort)TpmAlgId.Sha256), 0x4C4),
            DiffStep.Of("encryptedSalt of 300 octets without tpmKey", Cmd.Of(TpmCc.StartAuthSession).Handle(TpmRh.Null).Handle(TpmRh.Null)
                .B2(Bytes(16, 22)).B2(Bytes(300, 23)).U8((byte)TpmSe.Hmac).U16((ushort)TpmAlgId.Null).U16((ushort)TpmAlgId.Sha256), 0x2C4),
        ]),
    ];
}
