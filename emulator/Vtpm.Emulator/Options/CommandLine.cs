using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Vtpm.Tpm2.State;

namespace Vtpm.Emulator.Options;

/// <summary>
/// Parses <c>vtpm socket …</c> (swtpm's socket front end: same options, same sub-syntax, same defaults) and
/// <c>vtpm mssim …</c> (the Microsoft simulator protocol). <c>--opt value</c> and <c>--opt=value</c> both work,
/// as with getopt_long. Unknown options or sub-options are errors.
/// </summary>
public static class CommandLine
{
    /// <summary>swtpm's default data port when neither --server port= nor TPM_PORT is given.</summary>
    public const int SwtpmDefaultPort = 6545;

    /// <summary>The Microsoft simulator's default command port (DEFAULT_TPM_PORT).</summary>
    public const int MssimDefaultPort = 2321;

    public static HostOptions Parse(string[] args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null ? environment.GetValueOrDefault(name) : Environment.GetEnvironmentVariable(name);

        if (args.Length == 0) throw new OptionException("missing front end: 'vtpm socket …' or 'vtpm mssim …' (see vtpm --help)");
        var o = new HostOptions();
        int start = 1;
        switch (args[0])
        {
            case "socket": o.Mode = HostMode.Socket; break;
            case "mssim": o.Mode = HostMode.Mssim; break;
            case "-h" or "--help": o.Help = true; return o;
            case "-v" or "--version": o.Version = true; return o;
            case "chardev" or "cuse": throw new OptionException($"the '{args[0]}' front end is not available; use 'vtpm socket' or 'vtpm mssim'");
            default: throw new OptionException($"unknown front end '{args[0]}': use 'vtpm socket …' or 'vtpm mssim …'");
        }

        bool tpm2 = false;
        string? tpmstate = null, server = null, ctrl = null, flags = null, log = null, pid = null, key = null, tpmback = null;
        int? legacyPort = null, mssimPort = null;
        string? bindaddr = null;

        for (int i = start; i < args.Length; i++)
        {
            string a = args[i];
            string name = a;
            string? inline = null;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=') is int eq and > 2)
            {
                name = a[..eq];
                inline = a[(eq + 1)..];
            }
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Length) throw new OptionException($"{name} needs a value");
                return args[++i];
            }
            void NoValue()
            {
                if (inline is not null) throw new OptionException($"{name} takes no value");
            }
            bool socketOnly = o.Mode == HostMode.Socket;
            switch (name)
            {
                case "-h" or "--help": NoValue(); o.Help = true; break;
                case "-v" or "--version": NoValue(); o.Version = true; break;
                case "--tpmstate": tpmstate = Value(); break;
                case "--key": key = Value(); break;
                case "--log": log = Value(); break;
                case "--pid": pid = Value(); break;
                case "-d" or "--daemon": NoValue(); o.Daemon = true; break;
                case "--print-tcti": NoValue(); o.PrintTcti = true; break;
                case "--tpmback": tpmback = Value(); break;
                case "--tpm2" when socketOnly: NoValue(); tpm2 = true; break;
                case "--server" when socketOnly: server = Value(); break;
                case "--ctrl" when socketOnly: ctrl = Value(); break;
                case "--flags" when socketOnly: flags = Value(); break;
                case "-t" or "--terminate" when socketOnly: NoValue(); o.Terminate = true; break;
                case "--print-capabilities" when socketOnly: NoValue(); o.PrintCapabilities = true; break;
                case "-p" or "--port" when socketOnly: legacyPort = ParsePort(name, Value()); break;
                case "--port" when !socketOnly: mssimPort = ParsePort(name, Value()); break;
                case "--bindaddr" when !socketOnly: bindaddr = Value(); break;
                case "--trace" when !socketOnly: NoValue(); o.Trace = true; break;
                default: throw new OptionException($"unknown option '{a}' for 'vtpm {args[0]}' (see vtpm --help)");
            }
        }
        if (o.Help || o.Version) return o;
        if (o.PrintCapabilities) return o;

        if (o.Mode == HostMode.Socket && !tpm2)
            throw new OptionException("TPM 1.2 is not available yet: pass --tpm2 for a TPM 2.0 (swtpm's default without --tpm2 is TPM 1.2)");

        ParseTpmState(o, tpmstate, Env("TPM_PATH"));
        if (key is not null) o.Key = ParseKey(key);
        if (log is not null) ParseLog(o, log);
        if (pid is not null) ParsePid(o, pid);
        if (tpmback is not null) o.Tpmback = ParseTpmback(tpmback);

        if (o.Mode == HostMode.Socket)
        {
            if (server is not null && legacyPort is not null) throw new OptionException("--port and --server cannot be combined");
            if (server is not null) ParseServer(o, server, Env("TPM_PORT"));
            // As swtpm: with only --ctrl there is no data listener (QEMU hands the data channel over with
            // CMD_SET_DATAFD), so several instances never compete for the default port.
            else if ((ctrl is not null || o.Tpmback is not null) && legacyPort is null) o.Server = null; // ctrl only (QEMU) or ring only
            else o.Server = new EndpointOptions("127.0.0.1", legacyPort ?? PortFromEnv(Env("TPM_PORT")) ?? SwtpmDefaultPort, null);
            if (ctrl is not null) ParseCtrl(o, ctrl);
            if (flags is not null) ParseFlags(o, flags);
        }
        else
        {
            int port = mssimPort ?? MssimDefaultPort;
            if (port > 65534) throw new OptionException("--port: the platform port is port+1, so port must be at most 65534");
            o.Server = new EndpointOptions(bindaddr ?? "127.0.0.1", port, null);
        }
        return o;
    }

    static int ParsePort(string option, string v)
    {
        if (!int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) || p > 65535)
            throw new OptionException($"{option}: '{v}' is not a port number");
        return p;
    }

    static int? PortFromEnv(string? v) => v is null ? null : ParsePort("TPM_PORT", v);

    static void ParseTpmState(HostOptions o, string? text, string? tpmPath)
    {
        if (text is null)
        {
            o.StateDir = tpmPath ?? throw new OptionException("missing --tpmstate dir=<dir> (or the TPM_PATH environment variable)");
            return;
        }
        var s = SubOptions.Parse("--tpmstate", text);
        string? dir = s.Get("dir");
        string? uri = s.Get("backend-uri");
        if (dir is not null && uri is not null) throw new OptionException("--tpmstate: give dir= or backend-uri=, not both");
        if (uri is not null)
        {
            if (!uri.StartsWith("dir://", StringComparison.Ordinal))
                throw new OptionException($"--tpmstate: backend-uri={uri} is not supported (only dir://<path>)");
            dir = uri["dir://".Length..];
        }
        o.StateDir = dir ?? tpmPath ?? throw new OptionException("--tpmstate: missing dir=<dir>");
        if (o.StateDir.Length == 0) throw new OptionException("--tpmstate: empty directory");
        o.StateMode = s.GetMode("mode");
        s.Flag("lock"); // the directory is always locked
        s.Flag("fsync"); // every write is always fsynced (file and directory)
        s.EnsureAllUsed();
    }

    static EndpointOptions ParseEndpoint(SubOptions s, string? envPort, bool portRequired)
    {
        string type = s.Get("type") ?? "tcp";
        if (s.Has("fd") || s.Has("clientfd")) throw new OptionException($"{s.OptionName}: fd=/clientfd= (inherited sockets) are not supported");
        switch (type)
        {
            case "tcp":
            {
                int? port = s.GetInt("port", 0, 65535) ?? PortFromEnv(envPort);
                if (port is null)
                {
                    if (portRequired) throw new OptionException($"{s.OptionName}: type=tcp needs port=");
                    port = SwtpmDefaultPort;
                }
                return new EndpointOptions(s.Get("bindaddr") ?? "127.0.0.1", port.Value, null);
            }
            case "unixio":
                return new EndpointOptions(null, 0, s.Require("path"), s.GetMode("mode"));
            default:
                throw new OptionException($"{s.OptionName}: type={type} is not supported (tcp or unixio)");
        }
    }

    static void ParseServer(HostOptions o, string text, string? envPort)
    {
        var s = SubOptions.Parse("--server", text);
        o.Server = ParseEndpoint(s, envPort, portRequired: false);
        o.ServerDisconnect = s.Flag("disconnect");
        s.EnsureAllUsed();
    }

    static TpmbackOptions ParseTpmback(string text)
    {
        var s = SubOptions.Parse("--tpmback", text);
        var t = new TpmbackOptions(s.Require("store"), s.Require("name"), s.Get("uuid"), s.GetInt("spin", 0, 10_000));
        s.EnsureAllUsed();
        if (!Vtpm.Frontend.RendezvousStore.IsValidName(t.Name)) throw new OptionException($"--tpmback: name={t.Name} must be 1-64 characters of [A-Za-z0-9._-]");
        if (t.Uuid is not null && !Guid.TryParse(t.Uuid, out _)) throw new OptionException($"--tpmback: uuid={t.Uuid} is not a UUID");
        return t;
    }

    static void ParseCtrl(HostOptions o, string text)
    {
        var s = SubOptions.Parse("--ctrl", text);
        if (!s.Has("type")) throw new OptionException("--ctrl: missing type=tcp|unixio");
        o.Control = ParseEndpoint(s, null, portRequired: true);
        o.ControlTerminate = s.Flag("terminate");
        s.EnsureAllUsed();
    }

    static void ParseFlags(HostOptions o, string text)
    {
        var s = SubOptions.Parse("--flags", text);
        o.NotNeedInit = s.Flag("not-need-init");
        o.DisableAutoShutdown = s.Flag("disable-auto-shutdown");
        var startups = new List<StartupFlag>();
        if (s.Flag("startup-clear")) startups.Add(StartupFlag.Clear);
        if (s.Flag("startup-state")) startups.Add(StartupFlag.State);
        if (s.Flag("startup-none")) startups.Add(StartupFlag.None);
        if (s.Has("startup-deactivated")) throw new OptionException("--flags: startup-deactivated is a TPM 1.2 option");
        if (startups.Count > 1) throw new OptionException("--flags: give at most one startup-… flag");
        o.Startup = startups.Count == 1 ? startups[0] : StartupFlag.None;
        s.EnsureAllUsed();
    }

    static void ParseLog(HostOptions o, string text)
    {
        var s = SubOptions.Parse("--log", text);
        o.LogFile = s.Get("file");
        o.LogFd = s.GetInt("fd", 0, int.MaxValue);
        if (o.LogFile is not null && o.LogFd is not null) throw new OptionException("--log: give file= or fd=, not both");
        o.LogLevel = s.GetInt("level", 0, 1000) ?? 1;
        o.LogPrefix = s.Get("prefix");
        o.LogTruncate = s.Flag("truncate");
        s.EnsureAllUsed();
        if (o.LogLevel >= 5) o.Trace = true;
    }

    static void ParsePid(HostOptions o, string text)
    {
        var s = SubOptions.Parse("--pid", text);
        o.PidFile = s.Get("file");
        o.PidFd = s.GetInt("fd", 0, int.MaxValue);
        if ((o.PidFile is null) == (o.PidFd is null)) throw new OptionException("--pid: give file=<path> or fd=<fd>");
        s.EnsureAllUsed();
    }

    /// <summary>
    /// --key: file=|fd= (format=hex|binary, default hex: 32 or 64 hex digits) or pwdfile=|pwdfd= (kdf=pbkdf2
    /// default, or sha512). mode= accepts swtpm's names, but the state is always sealed with AES-256-GCM.
    /// </summary>
    public static StateKey ParseKey(string text)
    {
        var s = SubOptions.Parse("--key", text);
        string? file = s.Get("file"), pwdfile = s.Get("pwdfile");
        int? fd = s.GetInt("fd", 0, int.MaxValue), pwdfd = s.GetInt("pwdfd", 0, int.MaxValue);
        int sources = (file is null ? 0 : 1) + (fd is null ? 0 : 1) + (pwdfile is null ? 0 : 1) + (pwdfd is null ? 0 : 1);
        if (sources != 1) throw new OptionException("--key: give exactly one of file=, fd=, pwdfile=, pwdfd=");
        string mode = s.Get("mode") ?? "aes-cbc";
        if (mode is not ("aes-cbc" or "aes-256-cbc" or "aes-256-gcm"))
            throw new OptionException($"--key: mode={mode} is not supported (aes-cbc, aes-256-cbc, aes-256-gcm; the state is always sealed with AES-256-GCM)");
        string format = s.Get("format") ?? "hex";
        string kdf = s.Get("kdf") ?? "pbkdf2";
        bool remove = s.Get("remove") switch
        {
            null or "false" => s.Flag("remove"),
            "true" => true,
            var v => throw new OptionException($"--key: remove={v} (true or false)"),
        };
        bool password = pwdfile is not null || pwdfd is not null;
        if (!password && s.Has("kdf")) throw new OptionException("--key: kdf= only applies to pwdfile=/pwdfd=");
        if (password && s.Has("format")) throw new OptionException("--key: format= only applies to file=/fd=");
        s.EnsureAllUsed();

        string? path = file ?? pwdfile;
        byte[] raw = path is not null ? ReadFile(path) : ReadFd((fd ?? pwdfd)!.Value);
        if (remove && path is not null) File.Delete(path);
        try
        {
            if (password)
            {
                // Our own derivation: swtpm-encrypted state cannot be read by vtpm anyway (different formats).
                byte[] derived = kdf switch
                {
                    "pbkdf2" => Rfc2898DeriveBytes.Pbkdf2(raw, "vtpm state key"u8, 100_000, HashAlgorithmName.SHA512, 32),
                    "sha512" => SHA512.HashData(raw)[..32],
                    _ => throw new OptionException($"--key: kdf={kdf} is not supported (pbkdf2 or sha512)"),
                };
                return new StateKey(derived);
            }
            byte[] key = format switch
            {
                "binary" => raw,
                "hex" => ParseHex(Encoding.ASCII.GetString(raw).Trim()),
                _ => throw new OptionException($"--key: format={format} is not supported (hex or binary)"),
            };
            if (key.Length is not (16 or 32)) throw new OptionException($"--key: the key is {key.Length} bytes; it must be 16 or 32");
            return new StateKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    static byte[] ParseHex(string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new OptionException("--key: the key file is not a hex string");
        }
    }

    static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OptionException($"--key: cannot read {path}: {e.Message}");
        }
    }

    static byte[] ReadFd(int fd)
    {
        using var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }
}
