namespace QuantBuild.Engine.Config;

/// <summary>One <c>key: value</c> pair of a mapping; the key keeps its own position for "unknown key" errors.</summary>
public sealed record ConfigEntry(ConfigScalar Key, ConfigNode Value)
{
    /// <summary>The key's text.</summary>
    public string Name => Key.Value;
}
