using System.Text.Json;
using Vtpm.Emulator;
using Vtpm.Emulator.Options;

namespace Vtpm.Tests.Host;

[TestClass]
public sealed class SubOptionsTests
{
    [TestMethod]
    public void Parse_KeyValuesAndFlags()
    {
        var s = SubOptions.Parse("--server", "type=tcp,port=2321,disconnect");
        Assert.AreEqual("tcp", s.Get("type"));
        Assert.AreEqual(2321, s.GetInt("port", 0, 65535));
        Assert.IsTrue(s.Flag("disconnect"));
        Assert.IsFalse(s.Flag("terminate"));
        s.EnsureAllUsed();
    }

    [TestMethod]
    public void Parse_ValueMayContainEqualsSigns()
    {
        var s = SubOptions.Parse("--tpmstate", "backend-uri=dir:///a=b");
        Assert.AreEqual("dir:///a=b", s.Get("backend-uri"));
    }

    [TestMethod]
    public void Parse_DuplicateKey_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--server", "port=1,port=2"));

    [TestMethod]
    public void Parse_EmptyKey_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--server", "=1"));

    [TestMethod]
    public void EnsureAllUsed_NamesTheUnknownKey()
    {
        var s = SubOptions.Parse("--server", "type=tcp,bogus=1");
        s.Get("type");
        var e = Assert.ThrowsExactly<OptionException>(s.EnsureAllUsed);
        StringAssert.Contains(e.Message, "bogus");
    }

    [TestMethod]
    public void Flag_WithAValue_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--ctrl", "terminate=1").Flag("terminate"));

    [TestMethod]
    public void Get_OnABareFlag_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--ctrl", "port").Get("port"));

    [TestMethod]
    [DataRow("port=x")]
    [DataRow("port=-1")]
    [DataRow("port=70000")]
    public void GetInt_OutOfRange_IsAnError(string text) =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--server", text).GetInt("port", 0, 65535));

    [TestMethod]
    public void GetMode_ParsesOctal() =>
        Assert.AreEqual((UnixFileMode)0x1A0, SubOptions.Parse("--tpmstate", "mode=0640").GetMode("mode"));

    [TestMethod]
    public void GetMode_NonOctal_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => SubOptions.Parse("--tpmstate", "mode=0689").GetMode("mode"));
}

[TestClass]
public sealed class CommandLineTests
{
    static readonly Dictionary<string, string?> NoEnv = [];

    static HostOptions Parse(params string[] args) => CommandLine.Parse(args, NoEnv);

    [TestMethod]
    public void Socket_WithoutTpm2_SaysTpm12IsNotAvailable()
    {
        var e = Assert.ThrowsExactly<OptionException>(() => Parse("socket", "--tpmstate", "dir=/tmp/x"));
        StringAssert.Contains(e.Message, "TPM 1.2 is not available");
    }

    [TestMethod]
    public void Socket_AllSwtpmOptions_Parse()
    {
        var o = Parse("socket", "--tpm2", "--tpmstate", "dir=/tmp/s,mode=0600,lock",
            "--server", "type=tcp,port=2321,bindaddr=0.0.0.0,disconnect",
            "--ctrl", "type=unixio,path=/tmp/c.sock,mode=0660,terminate",
            "--flags", "not-need-init,startup-clear,disable-auto-shutdown",
            "--log", "file=/tmp/l,level=20,prefix=X ,truncate", "--pid", "file=/tmp/p", "-t", "-d");
        Assert.AreEqual(HostMode.Socket, o.Mode);
        Assert.AreEqual("/tmp/s", o.StateDir);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, o.StateMode);
        Assert.AreEqual(new EndpointOptions("0.0.0.0", 2321, null), o.Server);
        Assert.IsTrue(o.ServerDisconnect);
        Assert.AreEqual("/tmp/c.sock", o.Control!.UnixPath);
        Assert.IsTrue(o.ControlTerminate);
        Assert.IsTrue(o.NotNeedInit);
        Assert.AreEqual(StartupFlag.Clear, o.Startup);
        Assert.IsTrue(o.DisableAutoShutdown);
        Assert.AreEqual("/tmp/l", o.LogFile);
        Assert.AreEqual(20, o.LogLevel);
        Assert.AreEqual("X ", o.LogPrefix);
        Assert.IsTrue(o.LogTruncate);
        Assert.IsTrue(o.Trace, "level >= 5 turns the command trace on");
        Assert.AreEqual("/tmp/p", o.PidFile);
        Assert.IsTrue(o.Terminate);
        Assert.IsTrue(o.Daemon);
    }

    [TestMethod]
    public void Socket_EqualsFormOfLongOptions_Parses()
    {
        var o = Parse("socket", "--tpm2", "--tpmstate=dir=/tmp/s", "--server=type=tcp,port=99");
        Assert.AreEqual("/tmp/s", o.StateDir);
        Assert.AreEqual(99, o.Server!.Port);
    }

    [TestMethod]
    public void Socket_Defaults_AreSwtpms()
    {
        var o = Parse("socket", "--tpm2", "--tpmstate", "dir=/tmp/s");
        Assert.AreEqual(new EndpointOptions("127.0.0.1", 6545, null), o.Server);
        Assert.IsNull(o.Control);
        Assert.IsFalse(o.NotNeedInit);
        Assert.AreEqual(StartupFlag.None, o.Startup);
        Assert.IsFalse(o.DisableAutoShutdown);
        Assert.IsNull(o.Key);
    }

    [TestMethod]
    public void Socket_EnvironmentSuppliesStateDirAndPort()
    {
        var env = new Dictionary<string, string?> { ["TPM_PATH"] = "/tmp/env", ["TPM_PORT"] = "4444" };
        var o = CommandLine.Parse(["socket", "--tpm2"], env);
        Assert.AreEqual("/tmp/env", o.StateDir);
        Assert.AreEqual(4444, o.Server!.Port);
    }

    [TestMethod]
    public void Socket_BackendUriDir_IsTheStateDir() =>
        Assert.AreEqual("/tmp/u", Parse("socket", "--tpm2", "--tpmstate", "backend-uri=dir:///tmp/u").StateDir);

    [TestMethod]
    public void Socket_UnixServer_Parses()
    {
        var o = Parse("socket", "--tpm2", "--tpmstate", "dir=/tmp/s", "--server", "type=unixio,path=/tmp/d.sock");
        Assert.IsTrue(o.Server!.IsUnix);
        Assert.AreEqual("/tmp/d.sock", o.Server.UnixPath);
    }

    [TestMethod]
    public void Socket_LegacyPortOption_IsATcpServer() =>
        Assert.AreEqual(7777, Parse("socket", "--tpm2", "--tpmstate", "dir=/x", "-p", "7777").Server!.Port);

    [TestMethod]
    [DataRow("--bogus")]
    [DataRow("--trace")]
    [DataRow("--bindaddr")]
    public void Socket_UnknownOption_IsAnError(string option)
    {
        var e = Assert.ThrowsExactly<OptionException>(() => Parse("socket", "--tpm2", "--tpmstate", "dir=/x", option));
        StringAssert.Contains(e.Message, option);
    }

    [TestMethod]
    [DataRow("--server", "type=tcp,port=1,foo=2")]
    [DataRow("--server", "type=udp,port=1")]
    [DataRow("--ctrl", "type=tcp")]
    [DataRow("--ctrl", "port=5")]
    [DataRow("--ctrl", "type=unixio")]
    [DataRow("--flags", "startup-clear,startup-state")]
    [DataRow("--flags", "startup-deactivated")]
    [DataRow("--flags", "bogus")]
    [DataRow("--tpmstate", "dir=/x,backup")]
    [DataRow("--tpmstate", "backend-uri=file:///x")]
    [DataRow("--log", "level=abc")]
    [DataRow("--pid", "")]
    public void Socket_BadSubOption_IsAnError(string option, string value)
    {
        string[] args = option == "--tpmstate" ? ["socket", "--tpm2", option, value] : ["socket", "--tpm2", "--tpmstate", "dir=/x", option, value];
        Assert.ThrowsExactly<OptionException>(() => Parse(args));
    }

    [TestMethod]
    public void Socket_MissingStateDir_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => Parse("socket", "--tpm2"));

    [TestMethod]
    public void Socket_OptionMissingItsValue_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => Parse("socket", "--tpm2", "--tpmstate"));

    [TestMethod]
    public void Mssim_Defaults()
    {
        var o = Parse("mssim", "--tpmstate", "dir=/tmp/m");
        Assert.AreEqual(HostMode.Mssim, o.Mode);
        Assert.AreEqual(new EndpointOptions("127.0.0.1", 2321, null), o.Server);
        Assert.IsFalse(o.Trace);
        Assert.IsFalse(o.PrintTcti);
    }

    [TestMethod]
    public void Mssim_AllOptions_Parse()
    {
        var o = Parse("mssim", "--port", "3000", "--bindaddr", "::1", "--tpmstate", "dir=/tmp/m", "--trace", "--print-tcti", "--log", "file=-");
        Assert.AreEqual(new EndpointOptions("::1", 3000, null), o.Server);
        Assert.IsTrue(o.Trace);
        Assert.IsTrue(o.PrintTcti);
        Assert.AreEqual("-", o.LogFile);
    }

    [TestMethod]
    [DataRow("--tpm2")]
    [DataRow("--server")]
    [DataRow("--flags")]
    public void Mssim_SocketOnlyOption_IsAnError(string option) =>
        Assert.ThrowsExactly<OptionException>(() => Parse("mssim", "--tpmstate", "dir=/x", option, "x"));

    [TestMethod]
    public void Mssim_Port65535_IsAnErrorBecausePlatformPortIsPortPlusOne() =>
        Assert.ThrowsExactly<OptionException>(() => Parse("mssim", "--tpmstate", "dir=/x", "--port", "65535"));

    [TestMethod]
    [DataRow("chardev")]
    [DataRow("bogus")]
    public void UnknownFrontEnd_IsAnError(string frontEnd) =>
        Assert.ThrowsExactly<OptionException>(() => Parse(frontEnd));

    [TestMethod]
    public void NoArguments_IsAnError() => Assert.ThrowsExactly<OptionException>(() => Parse());

    [TestMethod]
    public void Help_AndVersion_NeedNoOtherOption()
    {
        Assert.IsTrue(Parse("--help").Help);
        Assert.IsTrue(Parse("socket", "--version").Version);
        Assert.IsTrue(Parse("socket", "--print-capabilities").PrintCapabilities);
    }

    [TestMethod]
    public void PrintCapabilities_IsSwtpmJsonWithOnlyImplementedFeatures()
    {
        using var doc = JsonDocument.Parse(Program.CapabilitiesJson());
        Assert.AreEqual("swtpm", doc.RootElement.GetProperty("type").GetString());
        var features = doc.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()).ToList();
        CollectionAssert.Contains(features, "tpm-2.0");
        CollectionAssert.DoesNotContain(features, "tpm-1.2");
        CollectionAssert.DoesNotContain(features, "tpm-send-command-header");
        Assert.IsFalse(string.IsNullOrEmpty(doc.RootElement.GetProperty("version").GetString()));
    }
}

[TestClass]
public sealed class KeyOptionTests
{
    string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("vtpm-key-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    string Write(string name, byte[] content)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, content);
        return p;
    }

    [TestMethod]
    public void HexKeyFile_Parses()
    {
        string p = Write("k", System.Text.Encoding.ASCII.GetBytes(new string('a', 64) + "\n"));
        Assert.IsNotNull(CommandLine.ParseKey($"file={p},format=hex,mode=aes-256-cbc"));
    }

    [TestMethod]
    public void BinaryKeyFile_WithRemove_IsDeleted()
    {
        string p = Write("k", new byte[16]);
        Assert.IsNotNull(CommandLine.ParseKey($"file={p},format=binary,remove=true"));
        Assert.IsFalse(File.Exists(p));
    }

    [TestMethod]
    public void PasswordFile_Parses()
    {
        string p = Write("pw", "secret"u8.ToArray());
        Assert.IsNotNull(CommandLine.ParseKey($"pwdfile={p},kdf=sha512"));
    }

    [TestMethod]
    [DataRow("format=binary", 20)]
    [DataRow("format=hex", 10)]
    [DataRow("format=base64", 16)]
    [DataRow("mode=aes-128-ecb", 16)]
    public void BadKey_IsAnError(string extra, int length)
    {
        string p = Write("k", extra == "format=hex" ? "zz"u8.ToArray() : new byte[length]);
        Assert.ThrowsExactly<OptionException>(() => CommandLine.ParseKey($"file={p},{extra}"));
    }

    [TestMethod]
    public void TwoKeySources_IsAnError() =>
        Assert.ThrowsExactly<OptionException>(() => CommandLine.ParseKey("file=/a,pwdfile=/b"));

    [TestMethod]
    public void SameKeyFile_GivesAKeyThatOpensTheSameState()
    {
        string p = Write("k", new byte[32]);
        var a = CommandLine.ParseKey($"file={p},format=binary");
        var b = CommandLine.ParseKey($"file={p},format=binary");
        var blob = Vtpm.Tpm2.State.StateEnvelope.Seal(Vtpm.Tpm2.State.StateBlobKind.Permanent, [1, 2, 3], a);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, Vtpm.Tpm2.State.StateEnvelope.Open(Vtpm.Tpm2.State.StateBlobKind.Permanent, blob, b, "x"));
    }
}
