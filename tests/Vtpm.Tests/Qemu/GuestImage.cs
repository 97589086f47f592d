using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Vtpm.Tests.Support.Processes;

namespace Vtpm.Tests.Qemu;

/// <summary>
/// The guest the QEMU tests boot: Debian's linux-image-6.1.0-*-amd64 (tpm_tis and tpm_crb built in),
/// fetched once with <c>apt-get download</c> and unpacked with dpkg-deb, and a busybox-static initramfs
/// whose /init is <see cref="InitScript"/>. Both are cached under .vtpm/cache/qemu in the repository
/// (ignored by git); the initramfs is rebuilt only when the script changes.
/// </summary>
public static class GuestImage
{
    static readonly Lock Gate = new();
    static (string Kernel, string Initrd)? _cached;

    /// <summary>
    /// The guest's /init. After the report it obeys one line at a time from the serial console, so the host
    /// drives every scenario deterministically: each step ends with "WAIT-HOST" and the guest blocks in
    /// <c>read</c> until the host answers. Raw commands are written to /dev/tpm0 and /dev/tpmrm0 as octal
    /// escapes and the reply (one read) is printed in hex.
    /// </summary>
    public const string InitScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        T=/sys/class/tpm/tpm0
        # TPM2_GetRandom(8)
        GETRANDOM='\200\001\000\000\000\014\000\000\001\173\000\010'
        # TPM2_PCR_Extend(PCR 16, password session, sha256 digest 01 02 .. 20)
        EXTEND16='\200\002\000\000\000\101\000\000\001\202\000\000\000\020\000\000\000\011\100\000\000\011\000\000\000\000\000\000\000\000\001\000\013\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\040'
        tpmcmd() {
          exec 3<>"$1"
          printf "$2" >&3
          dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' \n'
          exec 3<&-
        }
        report() {
          echo "TPM-FAMILY $(cat $T/tpm_version_major 2>&1)"
          for i in $(seq 0 23); do echo "PCR-SHA256 $i $(cat $T/pcr-sha256/$i 2>&1)"; done
          echo "RAW-TPM0 $(tpmcmd /dev/tpm0 "$GETRANDOM")"
          echo "RAW-TPMRM0 $(tpmcmd /dev/tpmrm0 "$GETRANDOM")"
        }
        echo "GUEST-BOOTED"
        report
        while true; do
          echo "WAIT-HOST"
          read cmd
          case "$cmd" in
            extend) echo "EXTEND16 $(tpmcmd /dev/tpm0 "$EXTEND16")" ;;
            pcr16) echo "PCR16 $(cat $T/pcr-sha256/16 2>&1)" ;;
            random) echo "RAW-TPM0 $(tpmcmd /dev/tpm0 "$GETRANDOM")"; echo "RAW-TPMRM0 $(tpmcmd /dev/tpmrm0 "$GETRANDOM")" ;;
            report) report ;;
            off) echo "GUEST-OFF"; poweroff -f ;;
          esac
        done

        """;

    public static string CacheDir => Path.Combine(Executables.RepoRoot, ".vtpm", "cache", "qemu");

    /// <summary>The kernel and initramfs paths, fetched/built on first use.</summary>
    public static (string Kernel, string Initrd) Get()
    {
        lock (Gate)
        {
            if (_cached is { } c && File.Exists(c.Kernel) && File.Exists(c.Initrd)) return c;
            Directory.CreateDirectory(CacheDir);
            _cached = (Kernel(), Initrd());
            return _cached.Value;
        }
    }

    static string Kernel()
    {
        var existing = Directory.GetFiles(CacheDir, "vmlinuz-6.1.0-*-amd64");
        if (existing.Length > 0) return existing.Max(StringComparer.Ordinal)!;
        // linux-image-amd64 depends on the current linux-image-6.1.0-N-amd64.
        static string Resolve()
        {
            string depends = Run("apt-cache", ["depends", "linux-image-amd64"], null);
            return depends.Split('\n').Select(l => l.Trim())
                .Where(l => l.StartsWith("Depends: linux-image-6.1.0-", StringComparison.Ordinal) && l.EndsWith("-amd64", StringComparison.Ordinal))
                .Select(l => l["Depends: ".Length..]).FirstOrDefault()
                ?? throw new InvalidOperationException("apt-cache depends linux-image-amd64 names no linux-image-6.1.0-*-amd64:\n" + depends);
        }
        var work = Directory.CreateTempSubdirectory("vtpm-kernel-").FullName;
        try
        {
            try
            {
                Run("apt-get", ["download", Resolve()], work);
            }
            catch (InvalidOperationException)
            {
                // Stale package lists name a version the mirror no longer has: refresh once and retry.
                Run("apt-get", ["update", "-qq"], null);
                Run("apt-get", ["download", Resolve()], work);
            }
            string deb = Directory.GetFiles(work, "*.deb").Single();
            Run("dpkg-deb", ["-x", deb, Path.Combine(work, "x")], null);
            string vmlinuz = Directory.GetFiles(Path.Combine(work, "x", "boot"), "vmlinuz-*").Single();
            string target = Path.Combine(CacheDir, Path.GetFileName(vmlinuz));
            File.Copy(vmlinuz, target + ".tmp", overwrite: true);
            File.Move(target + ".tmp", target, overwrite: true);
            return target;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    static string Initrd()
    {
        string busybox = Executables.FromPath("busybox", "busybox-static");
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(InitScript + new FileInfo(busybox).Length)))[..16].ToLowerInvariant();
        string target = Path.Combine(CacheDir, $"initrd-{hash}.cpio.gz");
        if (File.Exists(target)) return target;
        Executables.FromPath("cpio", "cpio");
        var root = Directory.CreateTempSubdirectory("vtpm-initrd-").FullName;
        try
        {
            foreach (var d in new[] { "bin", "proc", "sys", "dev" }) Directory.CreateDirectory(Path.Combine(root, d));
            File.Copy(busybox, Path.Combine(root, "bin", "busybox"));
            string init = Path.Combine(root, "init");
            File.WriteAllText(init, InitScript.Replace("\r\n", "\n", StringComparison.Ordinal));
            Run("sh", ["-c", $"chmod 0755 init bin/busybox && find . | cpio -o -H newc --quiet | gzip -1 > '{target}.tmp'"], root);
            File.Move(target + ".tmp", target, overwrite: true);
            return target;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    static string Run(string program, string[] args, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}):\n{stdout}{stderr.Result}");
        return stdout;
    }
}
