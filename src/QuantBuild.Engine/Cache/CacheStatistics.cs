namespace QuantBuild.Engine.Cache;

/// <summary>How many entries a cache tier holds and how big they are.</summary>
/// <param name="Location">The folder or remote location.</param>
/// <param name="Entries">Entries.</param>
/// <param name="Bytes">Their total size.</param>
/// <param name="Oldest">When the least recently used (local) or stored (remote) entry was, or null when empty.</param>
/// <param name="Newest">When the most recent one was, or null when empty.</param>
public sealed record CacheStatistics(string Location, int Entries, long Bytes, DateTimeOffset? Oldest, DateTimeOffset? Newest);
