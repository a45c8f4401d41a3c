namespace QuantBuild.Engine.Config;

/// <summary>One entry of <c>plugins</c>: a local folder or assembly, or a NuGet package.</summary>
public sealed record PluginReference
{
    /// <summary>Absolute path of the plugin folder or assembly, or null for a package.</summary>
    public string? Path { get; init; }

    /// <summary>Lower-case hex SHA-256 the plugin assembly must have, or null for no pin.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The NuGet package id, or null for a path.</summary>
    public string? Package { get; init; }

    /// <summary>The exact package version (required with a package, so a run is reproducible).</summary>
    public string? Version { get; init; }

    /// <summary>True when the path may lie outside the yaml's folder tree.</summary>
    public bool AllowOutside { get; init; }

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; }
}
