namespace QuantBuild.Engine.Config;

/// <summary>A data source as written in the yaml, with absolute paths.</summary>
public sealed record DataSourceConfig
{
    /// <summary>Which form it takes.</summary>
    public required DataSourceKind Kind { get; init; }

    /// <summary>The absolute file or folder path; null for <see cref="DataSourceKind.PerInput"/>.</summary>
    public string? Path { get; init; }

    /// <summary>Input name → absolute .npy path for <see cref="DataSourceKind.PerInput"/>, otherwise empty.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the value was written.</summary>
    public SourceLocation Location { get; init; }
}
