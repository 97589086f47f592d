using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// One qemu-system-x86_64 run (TCG, -nographic): the serial console is the process's stdin/stdout, the
/// human monitor (HMP) listens on a Unix socket, and the TPM is <c>-tpmdev emulator</c> on a vtpm control
/// socket with the given front end (tpm-tis or tpm-crb).
/// </summary>
public sealed partial class QemuVm : IDisposable
{
    readonly StringBuilder _serial = new();
    readonly Lock _gate = new();
    int _consumed;

    readonly ChildProcess _qemu;

    public Process Process => _qemu.Process;
    public string MonitorPath { get; }

    /// <summary>Everything the serial console printed so far (escape sequences and carriage returns removed).</summary>
    public string Serial { get { lock (_gate) return _serial.ToString(); } }

    public QemuVm(string dir, string name, string tpmControlPath, string device, bool noReboot = true, string? incoming = null)
    {
        var (kernel, initrd) = GuestImage.Get();
        MonitorPath = Path.Combine(dir, name + ".monitor");
        var args = new List<string>
        {
            "-nographic", "-m", "256", "-nodefaults", "-serial", "stdio",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-monitor", $"unix:{MonitorPath},server=on,wait=off",
            "-chardev", $"socket,id=chrtpm,path={tpmControlPath}",
            "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
            "-device", $"{device},tpmdev=tpm0",
        };
        if (noReboot) args.Add("-no-reboot");
        if (incoming is not null) args.AddRange(["-incoming", incoming]);
        _qemu = new ChildProcess(Executables.FromPath("qemu-system-x86_64", "qemu-system-x86"), args,
            onLine: Append, onErrorLine: line => Append("[qemu stderr] " + line), redirectInput: true);
    }

    void Append(string line)
    {
        line = Escapes().Replace(line, "").Replace("\r", "", StringComparison.Ordinal);
        lock (_gate) _serial.AppendLine(line);
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|c)")]
    private static partial Regex Escapes();

    /// <summary>
    /// Waits until a line containing <paramref name="marker"/> appears (the firmware's output can precede it on the same line) after everything consumed so far,
    /// and returns the serial text up to and including that line (which is then consumed).
    /// </summary>
    public string WaitFor(string marker, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        while (true)
        {
            lock (_gate)
            {
                string text = _serial.ToString();
                int pos = _consumed;
                while (pos < text.Length)
                {
                    int end = text.IndexOf('\n', pos);
                    if (end < 0) break;
                    if (text.AsSpan(pos, end - pos).Contains(marker, StringComparison.Ordinal))
                    {
                        string part = text[_consumed..(end + 1)];
                        _consumed = end + 1;
                        return part;
                    }
                    pos = end + 1;
                }
            }
            if (Process.HasExited && sw.Elapsed > TimeSpan.FromSeconds(1))
                throw new InvalidOperationException($"QEMU exited ({Process.ExitCode}) before '{marker}'. Serial:\n{Serial}");
            if (sw.Elapsed > limit) throw new TimeoutException($"no '{marker}' on the serial console within {limit.TotalSeconds} s. Serial:\n{Serial}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Types one line on the serial console.</summary>
    public void SendLine(string line)
    {
        Process.StandardInput.Write(line + "\n");
        Process.StandardInput.Flush();
    }

    /// <summary>Runs one HMP command and returns its output (up to the next prompt).</summary>
    public string Monitor(string command)
    {
        var sw = Stopwatch.StartNew();
        while (!File.Exists(MonitorPath))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("no HMP socket");
            Thread.Sleep(20);
        }
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(MonitorPath));
        s.ReceiveTimeout = 30000;
        ReadUntilPrompt(s);
        s.Send(Encoding.ASCII.GetBytes(command + "\n"));
        return ReadUntilPrompt(s);
    }

    static string ReadUntilPrompt(Socket s)
    {
        var sb = new StringBuilder();
        var buffer = new byte[4096];
        while (!sb.ToString().EndsWith("(qemu) ", StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = s.Receive(buffer);
            }
            catch (SocketException)
            {
                break;
            }
            if (n == 0) break;
            sb.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return Escapes().Replace(sb.ToString(), "");
    }

    public bool WaitForExit(TimeSpan timeout) => _qemu.WaitForExit(timeout);

    public void Dispose() => _qemu.Dispose();
}
