namespace QuantBuild.Engine.Plugins;

/// <summary>One plugin the host tried to load: what it is, what it provides, or why it did not load.</summary>
public sealed record PluginInfo
{
    /// <summary>The plugin's name: its main assembly's simple name, or the package id.</summary>
    public required string Name { get; init; }

    /// <summary>Where it came from.</summary>
    public required PluginSource Source { get; init; }

    /// <summary>The main assembly's path (or the path the yaml named, when it was not found).</summary>
    public required string Path { get; init; }

    /// <summary>The plugin's version (informational version of its main assembly, or the package version).</summary>
    public string? Version { get; init; }

    /// <summary>The contract version the plugin was compiled against (<c>major.minor</c>), when known.</summary>
    public string? ContractVersion { get; init; }

    /// <summary>Lower-case hex SHA-256 of the main assembly, when it was read.</summary>
    public string? Sha256 { get; init; }

    /// <summary>
    /// The id its [QuantBuildPlugin] attribute declares, else its name in lower case: the qualifier of its metrics and
    /// data readers in quantize.yaml (<c>id/name</c>).
    /// </summary>
    public string Id { get; init; } = string.Empty;

    /// <summary>The first two digits of its reserved diagnostic codes (QBnn00–QBnn99), or null when it declares none.</summary>
    public int? CodeBlock { get; init; }

    /// <summary>The metrics it provides, qualified (<c>id/name</c>); empty when it failed to load.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = Array.Empty<string>();

    /// <summary>The data readers it provides, qualified (<c>id/name</c>); empty when it failed to load.</summary>
    public IReadOnlyList<string> Readers { get; init; } = Array.Empty<string>();

    /// <summary>The passes it provides; empty when it failed to load.</summary>
    public IReadOnlyList<PassInfo> Passes { get; init; } = Array.Empty<PassInfo>();

    /// <summary>The QB20xx code when it failed to load, otherwise null.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The diagnostic line when it failed to load, otherwise null.</summary>
    public string? Error { get; init; }

    /// <summary>True when the plugin loaded and its passes are available.</summary>
    public bool Loaded => ErrorCode is null;
}
