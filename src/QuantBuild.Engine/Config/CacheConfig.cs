namespace QuantBuild.Engine.Config;

/// <summary>
/// The <c>cache</c> section: how long a run waits for another build working on the same key, and the shared remote
/// store beside the local folder. Not part of any cache key: where results are kept never changes what they are.
/// </summary>
public sealed record CacheConfig
{
    /// <summary>The default wait for a key another build holds: long enough for a slow recipe, bounded so a stuck build never hangs the next.</summary>
    public const double DefaultLockWaitSeconds = 1800;

    /// <summary>Seconds to wait for another build (this machine or, with a remote, any agent) quantizing the same key before doing it here too.</summary>
    public double LockWaitSeconds { get; init; } = DefaultLockWaitSeconds;

    /// <summary>The shared remote store, or null for the local folder only.</summary>
    public RemoteCacheConfig? Remote { get; init; }

    /// <summary>Where the section was written.</summary>
    public SourceLocation Location { get; init; }
}
