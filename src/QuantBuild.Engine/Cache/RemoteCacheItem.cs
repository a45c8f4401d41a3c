namespace QuantBuild.Engine.Cache;

/// <summary>One entry of a remote store's listing.</summary>
/// <param name="Key">The cache key.</param>
/// <param name="Bytes">The payload's size.</param>
/// <param name="LastModified">When it was stored.</param>
public sealed record RemoteCacheItem(string Key, long Bytes, DateTimeOffset LastModified);
