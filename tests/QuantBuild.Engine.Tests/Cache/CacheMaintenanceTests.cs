using System.Security.Cryptography;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Pipeline;

namespace QuantBuild.Engine.Tests.Cache;

/// <summary>`quantbuild cache prune` on the local folder: by last use, then least recently used until the size fits.</summary>
public sealed class CacheMaintenanceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "qb-prune-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Prune_deletes_entries_unused_past_the_age_then_the_least_recently_used_until_the_size_fits()
    {
        var cache = new ResultCache(_root);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        string old = Store(cache, "old", 1000, now.AddDays(-40));
        string used = Store(cache, "used", 1000, now.AddDays(-2));
        string fresh = Store(cache, "fresh", 1000, now.AddDays(-3));
        Assert.Equal(3, CacheMaintenance.Local(cache).Entries);

        Assert.Equal(1, CacheMaintenance.PruneLocal(cache, TimeSpan.FromDays(30), maxBytes: null, now));
        Assert.Null(cache.TryGet(old));

        // A hit marks an entry used: 'fresh' (stored 3 days ago) is now more recent than 'used'.
        Assert.NotNull(cache.TryGet(fresh));
        CacheStatistics before = CacheMaintenance.Local(cache);
        Assert.Equal(1, CacheMaintenance.PruneLocal(cache, olderThan: null, maxBytes: before.Bytes - 1, now));
        Assert.Null(cache.TryGet(used));
        Assert.NotNull(cache.TryGet(fresh));
        Assert.Equal(new[] { fresh }, cache.Keys().ToArray());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Store(ResultCache cache, string name, int bytes, DateTimeOffset usedAt)
    {
        string key = CacheKey.Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
        string model = Path.Combine(Path.GetTempPath(), $"qb-model-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(model, new byte[bytes]);
        try
        {
            Assert.NotNull(cache.Store(key, model, [], new TargetResult { Name = name, Device = "cpu-x64-vnni", Status = TargetStatus.Passed }));
        }
        finally
        {
            File.Delete(model);
        }

        Directory.SetLastWriteTimeUtc(cache.EntryPath(key), usedAt.UtcDateTime);
        return key;
    }
}
