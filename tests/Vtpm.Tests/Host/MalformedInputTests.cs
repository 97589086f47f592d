using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;
using Vtpm.Emulator.Transports;
using Vtpm.Tests.Support;
using Vtpm.Tpm2.Dispatch;
using Vtpm.Tpm2.State;
using Vtpm.Wire;
using Vtpm.Wire.Tpm2;

namespace Vtpm.Tests.Host;

/// <summary>Hostile frames over the swtpm data channel: each gets a TPM error response or a clean disconnect.</summary>
[TestClass]
public sealed class MalformedInputTests
{
    [TestMethod]
    public async Task TenThousandMalformedFrames_NeverKillTheServer()
    {
        using var host = new TpmHost(new MemoryStateStore(), NullLogger.Instance) { StartupFlag = StartupFlag.Clear };
        host.Init();
        var o = new HostOptions { Mode = HostMode.Socket, Server = new EndpointOptions("127.0.0.1", 0, null) };
        await using var server = new SwtpmServer(o, NullLogger.Instance);
        server.Start(host);

        var rng = new Random(20261123);
        int responses = 0, disconnects = 0;
        var client = SocketClient.Tcp(server.Data!.Port);
        try
        {
            for (int i = 0; i < 10_000; i++)
            {
                var (frame, expectDisconnect) = Malformed(rng);
                if (expectDisconnect)
                {
                    client.Send(frame);
                    Assert.IsTrue(client.IsClosedByServer(), $"frame {i} should have been refused");
                    client.Dispose();
                    client = SocketClient.Tcp(server.Data.Port);
                    disconnects++;
                    continue;
                }
                var rsp = new Rsp(client.Send(frame).ReadTpmResponse(), false);
                Assert.AreEqual((uint)rsp.Bytes.Length, rsp.Size, $"frame {i}: response size field");
                Assert.IsTrue(rsp.Rc.IsError, $"frame {i} ({Convert.ToHexString(frame.AsSpan(0, Math.Min(16, frame.Length)))}) succeeded");
                responses++;
            }
            var ok = new Rsp(client.Send(Cmd.Of(TpmCc.GetRandom).U16(8).Build()).ReadTpmResponse(), false);
            Assert.AreEqual(TpmRc.Success, ok.Rc);
        }
        finally
        {
            client.Dispose();
        }
        Assert.IsGreaterThan(1000, disconnects);
        Assert.IsGreaterThan(5000, responses);
        host.RequestStop("test over");
    }

    static (byte[] Frame, bool ExpectDisconnect) Malformed(Random rng)
    {
        switch (rng.Next(6))
        {
            case 0: // size field below a header
            {
                var f = new byte[6];
                BinaryPrimitives.WriteUInt16BigEndian(f, 0x8001);
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(2), (uint)rng.Next(0, 10));
                return (f, true);
            }
            case 1: // size field above the buffer size
            {
                var f = new byte[10];
                rng.NextBytes(f);
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(2), (uint)rng.NextInt64(4097, uint.MaxValue));
                return (f, true);
            }
            case 2: // wrong tag
            {
                var f = Cmd.Of(TpmCc.GetRandom).U16(8).Build();
                ushort tag;
                do tag = (ushort)rng.Next(0, 0x10000); while (tag is 0x8001 or 0x8002);
                BinaryPrimitives.WriteUInt16BigEndian(f, tag);
                return (f, false);
            }
            case 3: // unknown command code
            {
                var f = Cmd.Of((TpmCc)0x20000000u | (TpmCc)(uint)rng.Next()).Build();
                return (f, false);
            }
            case 4: // hostile or truncated parameters of a real command
            {
                var body = new byte[rng.Next(0, 3)];
                rng.NextBytes(body);
                var f = Cmd.Of(TpmCc.GetRandom).Bytes(body).Build();
                if (body.Length == 2) BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(10), 0xFFFF); // would overflow the response
                if (body.Length == 2) f = [.. f, 0]; // and a trailing byte → TPM_RC_SIZE
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(2), (uint)f.Length);
                return (f, false);
            }
            default: // random bytes with a consistent size field and a session tag
            {
                var f = new byte[rng.Next(10, 200)];
                rng.NextBytes(f);
                BinaryPrimitives.WriteUInt16BigEndian(f, 0x8002);
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(2), (uint)f.Length);
                if (CommandTable.Lookup(BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(6))) is not null)
                    BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(6), 0x1FF);
                return (f, false);
            }
        }
    }
}
