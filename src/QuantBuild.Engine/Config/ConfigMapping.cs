namespace QuantBuild.Engine.Config;

/// <summary>
/// A yaml mapping with its entries in the order written. A recipe pass's options are one of these, so a plugin
/// can bind them (<see cref="PassOptionsBinder"/>) and still blame a bad value on its own line.
/// </summary>
public sealed record ConfigMapping(IReadOnlyList<ConfigEntry> Entries, SourceLocation Location) : ConfigNode(Location)
{
    /// <summary>The entry called <paramref name="key"/> (case-sensitive, as yaml is), or null.</summary>
    public ConfigEntry? Find(string key)
    {
        foreach (ConfigEntry entry in Entries)
        {
            if (entry.Name == key)
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>The keys in the order written.</summary>
    public IEnumerable<string> Keys => Entries.Select(e => e.Name);

    /// <inheritdoc/>
    public override string Describe() => "a mapping";
}
