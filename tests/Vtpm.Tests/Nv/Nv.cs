using System.Buffers.Binary;
using Vtpm.Tests.Support;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Nv;

/// <summary>Command builders for the NV tests.</summary>
public static class Nv
{
    public const uint TestIndex = 0x01500010;

    public const TpmaNv OwnerRw = TpmaNv.OwnerRead | TpmaNv.OwnerWrite;
    public const TpmaNv AuthRw = TpmaNv.AuthRead | TpmaNv.AuthWrite;

    public static Cmd Define(uint index, TpmaNv attrs, ushort size, string auth = "", TpmAlgId alg = TpmAlgId.Sha256, TpmRh authHandle = TpmRh.Owner, byte[]? policy = null)
    {
        var pub = new TpmsNvPublic { NvIndex = index, NameAlg = alg, Attributes = attrs, AuthPolicy = Tpm2bDigest.From(policy ?? []), DataSize = size };
        return Cmd.Of(TpmCc.NvDefineSpace).Handle(authHandle).Password().B2(auth).B2(Marshal(pub));
    }

    /// <summary>The wire form of a TPMS_NV_PUBLIC (the body of a TPM2B_NV_PUBLIC).</summary>
    public static byte[] Marshal(in TpmsNvPublic pub)
    {
        var buffer = new byte[TpmsNvPublic.MaxSize];
        var w = new TpmWriter(buffer);
        pub.Marshal(ref w);
        return w.Written.ToArray();
    }

    public static Cmd Define(TpmaNv attrs, ushort size, string auth = "") => Define(TestIndex, attrs, size, auth);

    public static Cmd Write(byte[] data, ushort offset = 0, uint auth = (uint)TpmRh.Owner, string password = "", uint index = TestIndex)
        => Cmd.Of(TpmCc.NvWrite).Handle(auth).Handle(index).Password(password).B2(data).U16(offset);

    public static Cmd Read(ushort size, ushort offset = 0, uint auth = (uint)TpmRh.Owner, string password = "", uint index = TestIndex)
        => Cmd.Of(TpmCc.NvRead).Handle(auth).Handle(index).Password(password).U16(size).U16(offset);

    public static Cmd Increment(uint index = TestIndex) => Cmd.Of(TpmCc.NvIncrement).Handle(TpmRh.Owner).Handle(index).Password();

    public static Cmd Undefine(uint index = TestIndex, TpmRh auth = TpmRh.Owner) => Cmd.Of(TpmCc.NvUndefineSpace).Handle(auth).Handle(index).Password();

    public static Cmd ReadPublic(uint index = TestIndex) => Cmd.Of(TpmCc.NvReadPublic).Handle(index);

    /// <summary>The data of a successful NV_Read response (TPM2B_MAX_NV_BUFFER).</summary>
    public static byte[] Data(Rsp r)
    {
        Assert.AreEqual(TpmRc.Success, r.Rc);
        var p = r.Parameters;
        int n = BinaryPrimitives.ReadUInt16BigEndian(p);
        return p[2..(2 + n)];
    }

    public static ulong ReadCounter(EngineHost h, uint index = TestIndex) => BinaryPrimitives.ReadUInt64BigEndian(Data(h.Send(Read(8, index: index))));

    /// <summary>TPMA_NV of an index from NV_ReadPublic.</summary>
    public static TpmaNv Attributes(EngineHost h, uint index = TestIndex)
    {
        var r = h.Send(ReadPublic(index));
        Assert.AreEqual(TpmRc.Success, r.Rc);
        return (TpmaNv)BinaryPrimitives.ReadUInt32BigEndian(r.Parameters.AsSpan(2 + 4 + 2));
    }

    /// <summary>
    /// Sends like a TSS: a TPM_RC_RETRY (the first DA-protected authorization after Startup, as the
    /// reference and swtpm answer) is sent again once.
    /// </summary>
    public static Rsp Tss(this EngineHost h, Cmd c)
    {
        var r = h.Send(c);
        return r.Rc == TpmRc.Retry ? h.Send(c) : r;
    }

    public static void Ok(Rsp r) => Assert.AreEqual(TpmRc.Success, r.Rc, r.ToString());

    public static void ShutdownRestart(EngineHost h, TpmSu shutdown, TpmSu startup)
    {
        Ok(h.Send(Cmd.Of(TpmCc.Shutdown).U16((ushort)shutdown)));
        h.Restart();
        Ok(h.Send(Cmd.Of(TpmCc.Startup).U16((ushort)startup)));
    }
}
