using System.Security.Cryptography;
using QuantBuild.Engine.Cache;

namespace QuantBuild.Engine.Tests.Cache;

/// <summary>
/// What every <see cref="IRemoteCache"/> must do, run against a real server by each backend's test class: entries
/// immutable and whole, the writer's sha256 handed back, one winner among concurrent writers, exclusive leases.
/// </summary>
public abstract class RemoteCacheContract
{
    /// <summary>A store on a fresh, empty container.</summary>
    protected abstract IRemoteCache NewStore();

    [Fact]
    public async Task An_uploaded_entry_downloads_whole_with_the_writers_sha256()
    {
        IRemoteCache store = NewStore();
        string key = Key("a");
        byte[] payload = Payload(9 << 20, seed: 1); // over two 4 MB blocks

        Assert.Null(await store.DownloadAsync(key, default));
        Assert.False(await store.ExistsAsync(key, default));
        Assert.True(await store.UploadAsync(key, payload, Sha(payload), default));

        RemoteBlob? blob = await store.DownloadAsync(key, default);
        Assert.NotNull(blob);
        Assert.Equal(payload, blob!.Content);
        Assert.Equal(Sha(payload), blob.Sha256);
        Assert.True(await store.ExistsAsync(key, default));
    }

    [Fact]
    public async Task An_entry_is_immutable_the_second_writer_keeps_the_first()
    {
        IRemoteCache store = NewStore();
        string key = Key("b");
        byte[] first = Payload(1000, seed: 1), second = Payload(1000, seed: 2);

        Assert.True(await store.UploadAsync(key, first, Sha(first), default));
        Assert.False(await store.UploadAsync(key, second, Sha(second), default));

        Assert.Equal(first, (await store.DownloadAsync(key, default))!.Content);
    }

    [Fact]
    public async Task Eight_concurrent_writers_of_one_key_leave_one_whole_entry()
    {
        IRemoteCache store = NewStore();
        string key = Key("c");
        byte[][] payloads = Enumerable.Range(0, 8).Select(i => Payload(5 << 20, seed: i)).ToArray();

        bool[] created = await Task.WhenAll(payloads.Select(p => Task.Run(() => store.UploadAsync(key, p, Sha(p), default))));

        Assert.Equal(1, created.Count(c => c));
        RemoteBlob blob = (await store.DownloadAsync(key, default))!;
        Assert.Equal(payloads[Array.IndexOf(created, true)], blob.Content);
        Assert.Equal(Sha(blob.Content), blob.Sha256);
    }

    [Fact]
    public async Task A_lease_is_held_by_one_caller_until_released()
    {
        IRemoteCache store = NewStore();
        string key = Key("d");

        IRemoteLease? first = await store.TryLeaseAsync(key, default);
        Assert.NotNull(first);
        Assert.Null(await store.TryLeaseAsync(key, default));
        Assert.NotNull(await store.TryLeaseAsync(Key("e"), default)); // per key, not per store

        await first!.ReleaseAsync();
        IRemoteLease? second = await store.TryLeaseAsync(key, default);
        Assert.NotNull(second);
        await second!.ReleaseAsync();
    }

    [Fact]
    public async Task Listing_names_every_entry_and_delete_removes_exactly_one()
    {
        IRemoteCache store = NewStore();
        string[] keys = [Key("f"), Key("g"), Key("h")];
        foreach (string key in keys)
        {
            byte[] p = Payload(100, seed: key[0]);
            await store.UploadAsync(key, p, Sha(p), default);
        }

        _ = await store.TryLeaseAsync(Key("i"), default); // lock objects are not entries

        List<RemoteCacheItem> listed = await ToList(store.ListAsync(default));
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed.Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.All(listed, i => Assert.Equal(100, i.Bytes));

        Assert.True(await store.DeleteAsync(keys[1], ifVersion: null, default));
        Assert.False(await store.DeleteAsync(keys[1], ifVersion: null, default));
        Assert.Equal(2, (await ToList(store.ListAsync(default))).Count);
        Assert.Null(await store.DownloadAsync(keys[1], default));
    }

    /// <summary>A key as the cache makes them: 64 lower-case hex digits.</summary>
    protected static string Key(string seed) => CacheKey.Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed + Guid.NewGuid())));

    protected static string Sha(byte[] bytes) => CacheKey.Hex(SHA256.HashData(bytes));

    protected static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<List<T>> ToList<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (T item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
