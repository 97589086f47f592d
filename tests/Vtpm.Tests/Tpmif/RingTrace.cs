using System.Globalization;
using Vtpm.Frontend;

namespace Vtpm.Tests.Tpmif;

/// <summary>What a process holds of tpmif rings (from /proc), and a hand-written frontend offer for fake peers.</summary>
static class RingTrace
{
    /// <summary>Lines of /proc/PID/maps that map a ring memfd (of device <paramref name="device"/> when given).</summary>
    public static string[] Mappings(int pid, string? device = null)
    {
        string name = $"/memfd:{SharedRing.FilePrefix}{device}";
        try
        {
            return File.ReadAllLines($"/proc/{pid}/maps").Where(l => l.Contains(name, StringComparison.Ordinal)).ToArray();
        }
        catch (IOException)
        {
            return []; // the process is gone: it holds nothing
        }
    }

    /// <summary>Descriptors of process <paramref name="pid"/> that refer to a ring memfd.</summary>
    public static string[] Descriptors(int pid, string? device = null)
    {
        string name = $"/memfd:{SharedRing.FilePrefix}{device}";
        var found = new List<string>();
        try
        {
            foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
            {
                string? target;
                try { target = new FileInfo(fd).LinkTarget; }
                catch (IOException) { continue; }
                if (target is not null && target.StartsWith(name, StringComparison.Ordinal)) found.Add($"{fd} -> {target}");
            }
        }
        catch (IOException)
        {
        }
        return [.. found];
    }

    /// <summary>Publishes <paramref name="ring"/> as this process's frontend offer (the keys tpmfront writes).</summary>
    public static void Offer(RendezvousStore store, SharedRing ring) =>
        Offer(store, ring.Descriptor.ToString(CultureInfo.InvariantCulture), ring.RingPages);

    /// <summary>Publishes any ring-ref (a hostile frontend may publish anything).</summary>
    public static void Offer(RendezvousStore store, string reference, int pages)
    {
        store.Write(Side.Frontend, "ring-ref", reference);
        store.Write(Side.Frontend, "ring-pages", pages.ToString(CultureInfo.InvariantCulture));
        store.Write(Side.Frontend, "event-channel", "futex");
        store.Write(Side.Frontend, "feature-protocol-v2", "1");
        store.WriteState(Side.Frontend, XenbusState.Initialised);
    }
}
