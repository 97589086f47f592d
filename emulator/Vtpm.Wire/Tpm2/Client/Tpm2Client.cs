using System.Buffers.Binary;

namespace Vtpm.Wire.Tpm2.Client;

/// <summary>
/// A typed TPM 2.0 client built on the catalog: a command's generated <c>XxxIn</c> is its builder (handles and
/// parameters), its <c>XxxOut</c> its parser. One method per command (generated, in Tpm2Client.g.cs) fills the In and
/// calls <see cref="Execute{TIn, TOut}"/>, which frames the command (Part 1 §18: header, handle area,
/// authorization area, parameters) and reads the response back (response handle, parameterSize, parameters).
/// Not thread-safe: one client per connection.
/// </summary>
public sealed partial class Tpm2Client(ITpmTransport transport, int bufferSize = 4096)
{
    /// <summary>How often a command answered TPM_RC_RETRY (YIELDED, TESTING) is sent again before the code is returned.</summary>
    public const int MaxRetries = 8;

    readonly byte[] _command = new byte[bufferSize];
    readonly byte[] _response = new byte[bufferSize];

    /// <summary>The transport this client sends on.</summary>
    public ITpmTransport Transport { get; } = transport;

    /// <summary>The response code of the last command (also returned by each call).</summary>
    public TpmRc LastResponseCode { get; private set; }

    /// <summary>The raw bytes of the last response (valid until the next command).</summary>
    public ReadOnlySpan<byte> LastResponse => _response.AsSpan(0, _lastLength);

    int _lastLength;

    /// <summary>
    /// Sends <paramref name="input"/> with the given authorizations (one per handle that needs one, in handle order)
    /// and parses the response into <paramref name="output"/>. A TPM error comes back as the result (output left
    /// default); a response that does not parse is <see cref="InvalidDataException"/>.
    /// </summary>
    public TpmRc Execute<TIn, TOut>(in TIn input, out TOut output, ReadOnlySpan<AuthCommand> authorizations = default)
        where TIn : struct, ICommandIn
        where TOut : struct, ICommandOut
    {
        output = default;
        int length = Build(in input, authorizations);
        TpmReader r;
        ushort tag;
        uint code;
        int attempt = 0;
        while (true)
        {
            _lastLength = Transport.Transact(_command.AsSpan(0, length), _response);
            r = new TpmReader(_response.AsSpan(0, _lastLength));
            if (!r.TryReadUInt16(out tag) || !r.TryReadUInt32(out uint size) || !r.TryReadUInt32(out code) || size != _lastLength)
                throw new InvalidDataException($"{input.CommandCode}: malformed response header ({_lastLength} bytes)");
            // Part 2 §6.6: TPM_RC_RETRY, TPM_RC_YIELDED and TPM_RC_TESTING ask the caller to send the same command
            // again (the reference answers RETRY to the first DA-protected authorization after Startup).
            if (code is not (0x922 or 0x908 or 0x90A) || ++attempt >= MaxRetries) break;
        }
        LastResponseCode = new TpmRc(code);
        if (code != 0) return LastResponseCode;
        if (TOut.HasResponseHandle)
        {
            if (!r.TryReadUInt32(out uint handle)) throw new InvalidDataException($"{input.CommandCode}: response handle missing");
            output.ResponseHandle = handle;
        }
        var parameters = r;
        if (tag == (ushort)TpmSt.Sessions)
        {
            if (!r.TryReadUInt32(out uint parameterSize) || !r.TryReadBytes((int)parameterSize, out var p))
                throw new InvalidDataException($"{input.CommandCode}: parameterSize beyond the response");
            parameters = new TpmReader(p);
        }
        var rc = output.UnmarshalParameters(ref parameters);
        if (rc.IsError) throw new InvalidDataException($"{input.CommandCode}: response parameters do not parse ({rc})");
        if (tag != (ushort)TpmSt.Sessions && !parameters.AtEnd)
            throw new InvalidDataException($"{input.CommandCode}: {parameters.Remaining} bytes after the response parameters");
        return LastResponseCode;
    }

    /// <summary>Frames a command into the command buffer; returns its length.</summary>
    int Build<TIn>(in TIn input, ReadOnlySpan<AuthCommand> authorizations) where TIn : struct, ICommandIn
    {
        var w = new TpmWriter(_command);
        bool sessions = authorizations.Length > 0;
        w.WriteUInt16((ushort)(sessions ? TpmSt.Sessions : TpmSt.NoSessions));
        w.WriteUInt32(0);
        w.WriteUInt32((uint)input.CommandCode);
        Span<uint> handles = stackalloc uint[8];
        input.WriteHandles(handles);
        for (int i = 0; i < TIn.HandleCount; i++) w.WriteUInt32(handles[i]);
        if (sessions)
        {
            int at = w.BeginSized32();
            foreach (var a in authorizations)
            {
                w.WriteUInt32(a.SessionHandle);
                w.WriteSized16(a.Nonce);
                w.WriteUInt8(a.Attributes);
                w.WriteSized16(a.Hmac);
            }
            w.EndSized32(at);
        }
        input.MarshalParameters(ref w);
        if (w.Overflowed) throw new ArgumentException($"{input.CommandCode}: the command does not fit in {_command.Length} bytes");
        BinaryPrimitives.WriteUInt32BigEndian(_command.AsSpan(2), (uint)w.Position);
        return w.Position;
    }

    /// <summary>The bytes of a command as the client would send it, for tests that need the wire form itself.</summary>
    public static byte[] Encode<TIn>(in TIn input, ReadOnlySpan<AuthCommand> authorizations = default) where TIn : struct, ICommandIn
    {
        var c = new Tpm2Client(NoTransport.Instance);
        int n = c.Build(in input, authorizations);
        return c._command.AsSpan(0, n).ToArray();
    }

    sealed class NoTransport : ITpmTransport
    {
        public static readonly NoTransport Instance = new();

        public int Transact(ReadOnlySpan<byte> command, Span<byte> response) => throw new InvalidOperationException("encoding only");
    }
}
