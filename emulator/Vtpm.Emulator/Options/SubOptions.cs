namespace Vtpm.Emulator.Options;

/// <summary>
/// swtpm's option sub-syntax: <c>key=value,key=value,flag</c>. Keys are case-sensitive as in swtpm; a
/// bare word is a flag (value null). Every key must be consumed by the caller, so a typo is an error.
/// </summary>
public sealed class SubOptions
{
    readonly List<KeyValuePair<string, string?>> _items;
    readonly HashSet<string> _used = [];

    public string OptionName { get; }

    SubOptions(string optionName, List<KeyValuePair<string, string?>> items)
    {
        OptionName = optionName;
        _items = items;
    }

    /// <exception cref="OptionException">Empty key, or a key given twice.</exception>
    public static SubOptions Parse(string optionName, string text)
    {
        var items = new List<KeyValuePair<string, string?>>();
        foreach (var part in text.Split(','))
        {
            if (part.Length == 0) continue;
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq];
            string? value = eq < 0 ? null : part[(eq + 1)..];
            if (key.Length == 0) throw new OptionException($"{optionName}: empty key in '{text}'");
            if (items.Any(i => i.Key == key)) throw new OptionException($"{optionName}: '{key}' given twice");
            items.Add(new(key, value));
        }
        return new SubOptions(optionName, items);
    }

    public bool Has(string key) => _items.Any(i => i.Key == key);

    /// <summary>The value of <paramref name="key"/>, or null if absent. A bare flag is an error here.</summary>
    public string? Get(string key)
    {
        foreach (var i in _items)
        {
            if (i.Key != key) continue;
            _used.Add(key);
            if (i.Value is null) throw new OptionException($"{OptionName}: '{key}' needs a value ({key}=...)");
            return i.Value;
        }
        return null;
    }

    public string Require(string key) => Get(key) ?? throw new OptionException($"{OptionName}: missing {key}=");

    /// <summary>True if the bare flag is present; <c>flag=...</c> with a value is an error.</summary>
    public bool Flag(string key)
    {
        foreach (var i in _items)
        {
            if (i.Key != key) continue;
            _used.Add(key);
            if (i.Value is not null) throw new OptionException($"{OptionName}: '{key}' takes no value");
            return true;
        }
        return false;
    }

    public int? GetInt(string key, int min, int max)
    {
        var v = Get(key);
        if (v is null) return null;
        if (!int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new OptionException($"{OptionName}: {key}={v} is not a number in {min}..{max}");
        return n;
    }

    /// <summary>An octal file mode such as 0640.</summary>
    public UnixFileMode? GetMode(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        try
        {
            int mode = Convert.ToInt32(v, 8);
            if (mode is < 0 or > 0x1FF) throw new FormatException();
            return (UnixFileMode)mode;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new OptionException($"{OptionName}: {key}={v} is not an octal file mode such as 0640");
        }
    }

    /// <summary>Fails on any key the caller did not read: unknown keys are errors, not silently ignored.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _items.Where(i => !_used.Contains(i.Key)).Select(i => i.Key).ToList();
        if (unknown.Count > 0) throw new OptionException($"{OptionName}: unknown or unsupported parameter(s): {string.Join(", ", unknown)}");
    }
}

/// <summary>A command line error: printed with the usage hint, exit code 1.</summary>
public sealed class OptionException(string message) : Exception(message);
