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

    /// <summary>For <see cref="DataSourceKind.Reader"/>: the reader's qualified name (<c>id/name</c>), otherwise null.</summary>
    public string? Reader { get; init; }

    /// <summary>For <see cref="DataSourceKind.Reader"/>: the reader's <c>options</c>, bound when the data is opened (empty when none).</summary>
    public ConfigMapping? ReaderOptions { get; init; }

    /// <summary>Where the value was written.</summary>
    public SourceLocation Location { get; init; }
}
