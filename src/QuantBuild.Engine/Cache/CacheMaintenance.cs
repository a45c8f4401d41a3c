namespace QuantBuild.Engine.Cache;

/// <summary>
/// What <c>quantbuild cache stats|prune|push</c> do: count, prune (least recently used first locally, oldest stored
/// first remotely) and upload. Entries are immutable, so pruning is the only way one leaves, and a pruned entry is only
/// a future miss, never a wrong result.
/// </summary>
public static class CacheMaintenance
{
    /// <summary>The local folder's entries (a hit marks an entry used, so its time is its last use).</summary>
    public static CacheStatistics Local(ResultCache cache)
    {
        List<(string Key, long Bytes, DateTimeOffset Used)> entries = LocalEntries(cache);
        return new CacheStatistics(cache.Root, entries.Count, entries.Sum(e => e.Bytes),
            entries.Count == 0 ? null : entries.Min(e => e.Used), entries.Count == 0 ? null : entries.Max(e => e.Used));
    }

    /// <summary>The remote store's entries.</summary>
    public static async Task<CacheStatistics> RemoteAsync(IRemoteCache remote, CancellationToken cancellation)
    {
        List<RemoteCacheItem> items = await ListAsync(remote, cancellation).ConfigureAwait(false);
        return new CacheStatistics(remote.Location, items.Count, items.Sum(i => i.Bytes),
            items.Count == 0 ? null : items.Min(i => i.LastModified), items.Count == 0 ? null : items.Max(i => i.LastModified));
    }

    /// <summary>Deletes local entries unused for longer than <paramref name="olderThan"/>, then the least recently used until at most <paramref name="maxBytes"/> remain.</summary>
    /// <returns>How many entries were deleted.</returns>
    public static int PruneLocal(ResultCache cache, TimeSpan? olderThan, long? maxBytes, DateTimeOffset now)
    {
        var doomed = Choose(LocalEntries(cache), olderThan, maxBytes, now);
        foreach (string key in doomed)
        {
            cache.Delete(key);
        }

        return doomed.Count;
    }

    /// <summary>Deletes remote entries stored longer ago than <paramref name="olderThan"/>, then the oldest until at most <paramref name="maxBytes"/> remain.</summary>
    /// <returns>How many entries were deleted.</returns>
    public static async Task<int> PruneRemoteAsync(IRemoteCache remote, TimeSpan? olderThan, long? maxBytes, DateTimeOffset now, CancellationToken cancellation)
    {
        List<RemoteCacheItem> items = await ListAsync(remote, cancellation).ConfigureAwait(false);
        int deleted = 0;
        foreach (string key in Choose(items.Select(i => (i.Key, i.Bytes, i.LastModified)).ToList(), olderThan, maxBytes, now))
        {
            deleted += await remote.DeleteAsync(key, ifVersion: null, cancellation).ConfigureAwait(false) ? 1 : 0;
        }

        return deleted;
    }

    /// <summary>Uploads every local entry the remote does not have (results stored while it was down, or before it was configured).</summary>
    /// <returns>Uploaded, already there.</returns>
    public static async Task<(int Uploaded, int Present)> PushAsync(ResultCache cache, RemoteResultCache remote, CancellationToken cancellation)
    {
        var present = (await ListAsync(remote.Store, cancellation).ConfigureAwait(false)).Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        int uploaded = 0, already = 0;
        foreach (string key in cache.Keys().Order(StringComparer.Ordinal).ToList())
        {
            if (present.Contains(key))
            {
                already++;
            }
            else if (cache.TryGet(key) is { } entry)
            {
                bool created = await remote.UploadAsync(entry, cancellation).ConfigureAwait(false);
                uploaded += created ? 1 : 0;
                already += created ? 0 : 1;
            }
        }

        return (uploaded, already);
    }

    private static async Task<List<RemoteCacheItem>> ListAsync(IRemoteCache remote, CancellationToken cancellation)
    {
        var items = new List<RemoteCacheItem>();
        await foreach (RemoteCacheItem item in remote.ListAsync(cancellation).ConfigureAwait(false))
        {
            items.Add(item);
        }

        return items;
    }

    private static List<(string Key, long Bytes, DateTimeOffset Used)> LocalEntries(ResultCache cache)
    {
        var entries = new List<(string, long, DateTimeOffset)>();
        foreach (string key in cache.Keys())
        {
            string folder = cache.EntryPath(key);
            try
            {
                long bytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
                entries.Add((key, bytes, new DateTimeOffset(Directory.GetLastWriteTimeUtc(folder), TimeSpan.Zero)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Deleted by another process while listing: not an entry any more.
            }
        }

        return entries;
    }

    // Oldest first: everything past the age, then more until the size fits.
    private static List<string> Choose(List<(string Key, long Bytes, DateTimeOffset Used)> entries, TimeSpan? olderThan, long? maxBytes, DateTimeOffset now)
    {
        var ordered = entries.OrderBy(e => e.Used).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
        var doomed = ordered.Where(e => olderThan is { } age && now - e.Used > age).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var kept = ordered.Where(e => !doomed.Contains(e.Key)).ToList();
        long total = kept.Sum(e => e.Bytes);
        foreach (var entry in kept.TakeWhile(_ => maxBytes is { } limit && total > limit))
        {
            doomed.Add(entry.Key);
            total -= entry.Bytes;
        }

        return ordered.Select(e => e.Key).Where(doomed.Contains).ToList();
    }
}
