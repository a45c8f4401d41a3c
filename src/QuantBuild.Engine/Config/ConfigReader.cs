using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Reads typed values out of <see cref="ConfigNode"/>s and collects every problem instead of stopping at the first,
/// so one run of the loader reports all of a file's errors.
/// </summary>
internal sealed class ConfigReader
{
    public List<QuantBuildException> Errors { get; } = new();

    public void Error(string code, string message, string fix, SourceLocation at) =>
        Errors.Add(new QuantBuildException(code, message, fix, at.File, at.Line, at.Column));

    public ConfigMapping? AsMapping(ConfigNode node, string what)
    {
        if (node is ConfigMapping m)
        {
            return m;
        }

        if (node is ConfigScalar { IsNull: true })
        {
            return new ConfigMapping(Array.Empty<ConfigEntry>(), node.Location);
        }

        WrongType(node, what, "a mapping (indented 'key: value' lines)");
        return null;
    }

    public ConfigSequence? AsSequence(ConfigNode node, string what)
    {
        if (node is ConfigSequence s)
        {
            return s;
        }

        if (node is ConfigScalar { IsNull: true })
        {
            return new ConfigSequence(Array.Empty<ConfigNode>(), node.Location);
        }

        WrongType(node, what, "a list ('- item' lines or [a, b])");
        return null;
    }

    /// <summary>Reports every key of <paramref name="map"/> outside <paramref name="allowed"/>, with a suggestion.</summary>
    public void CheckKeys(ConfigMapping map, IReadOnlyList<string> allowed, string section)
    {
        foreach (ConfigEntry entry in map.Entries)
        {
            if (!allowed.Contains(entry.Name))
            {
                string where = section.Length == 0 ? "at the top level" : $"in '{section}'";
                Error(
                    ConfigErrorCodes.UnknownKey,
                    $"unknown key '{entry.Name}' {where}.{NameSuggester.DidYouMean(entry.Name, allowed)}",
                    $"use one of: {string.Join(", ", allowed)}",
                    entry.Key.Location);
            }
        }
    }

    /// <summary>The entry's value unless it is absent or yaml null.</summary>
    public static ConfigNode? Value(ConfigMapping map, string key)
    {
        ConfigNode? v = map.Find(key)?.Value;
        return v is ConfigScalar { IsNull: true } ? null : v;
    }

    public void Missing(string key, string section, SourceLocation owner, string fix) =>
        Error(ConfigErrorCodes.MissingKey, section.Length == 0 ? $"missing required key '{key}'" : $"'{section}' is missing required key '{key}'", fix, owner);

    public string? String(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = Value(map, key);
        if (node is null)
        {
            return null;
        }

        if (node is ConfigScalar s)
        {
            return s.Value;
        }

        WrongType(node, path, "a text value");
        return null;
    }

    public double? Number(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = Value(map, key);
        if (node is null)
        {
            return null;
        }

        if (node is ConfigScalar s && TryNumber(s.Value, out double d))
        {
            return d;
        }

        WrongType(node, path, "a number");
        return null;
    }

    public int? Integer(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = Value(map, key);
        if (node is null)
        {
            return null;
        }

        if (node is ConfigScalar s && int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i))
        {
            return i;
        }

        WrongType(node, path, "a whole number");
        return null;
    }

    public bool? Bool(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = Value(map, key);
        if (node is null)
        {
            return null;
        }

        if (node is ConfigScalar s && TryBool(s.Value, out bool b))
        {
            return b;
        }

        WrongType(node, path, "true or false");
        return null;
    }

    public IReadOnlyList<string> StringList(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = Value(map, key);
        if (node is null)
        {
            return Array.Empty<string>();
        }

        // A single name is a one-item list: "nodes: fc2" reads naturally and means exactly that.
        if (node is ConfigScalar one)
        {
            return new[] { one.Value };
        }

        var list = new List<string>();
        if (AsSequence(node, path) is { } seq)
        {
            foreach (ConfigNode item in seq.Items)
            {
                if (item is ConfigScalar s && !s.IsNull)
                {
                    list.Add(s.Value);
                }
                else
                {
                    WrongType(item, path + " item", "a name");
                }
            }
        }

        return list;
    }

    public void WrongType(ConfigNode node, string path, string expected) =>
        Error(
            ConfigErrorCodes.WrongType,
            $"'{path}': expected {expected}, got {node.Describe()}",
            $"write {expected} for '{path}' (see docs/configuration.md)",
            node.Location);

    public void Range(ConfigNode? node, SourceLocation fallback, string path, string rule, string got) =>
        Error(ConfigErrorCodes.OutOfRange, $"'{path}' must be {rule}, got {got}", $"set '{path}' to a value that is {rule}", node?.Location ?? fallback);

    public static SourceLocation At(ConfigMapping map, string key, SourceLocation fallback) =>
        map.Find(key)?.Value.Location ?? fallback;

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE" or "yes" or "on":
                value = true;
                return true;
            case "false" or "False" or "FALSE" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    public static string Format(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
