namespace QuantBuild.Engine.Config;

/// <summary>
/// <c>cache.remote</c>: where the shared results live. The credentials are never here: they come from the environment
/// variable <see cref="ConnectionVariable"/> names, so a yaml that is committed and shared carries no secret.
/// </summary>
public sealed record RemoteCacheConfig
{
    /// <summary>The environment variable read when the yaml names none.</summary>
    public const string DefaultConnectionVariable = "QUANTBUILD_CACHE_CONNECTION";

    /// <summary>The backend: <c>azure-blob</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The blob container.</summary>
    public required string Container { get; init; }

    /// <summary>A folder inside the container, empty or ending in '/', so several projects can share one container.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>The environment variable holding the connection string or SAS URL.</summary>
    public string ConnectionVariable { get; init; } = DefaultConnectionVariable;

    /// <summary>Seconds one request may take before it is retried (twice) and then given up on.</summary>
    public double TimeoutSeconds { get; init; } = 30;

    /// <summary>Where <c>remote</c> was written, for warnings about it.</summary>
    public SourceLocation Location { get; init; }
}
