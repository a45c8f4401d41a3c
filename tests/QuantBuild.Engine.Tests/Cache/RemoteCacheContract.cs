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

        Assert.Null(await Get(store, key));
        Assert.False(await store.ExistsAsync(key, default));
        Assert.True(await Put(store, key, payload, Sha(payload)));

        (byte[] Content, RemoteBlob Blob)? got = await Get(store, key);
        Assert.NotNull(got);
        Assert.Equal(payload, got!.Value.Content);
        Assert.Equal(Sha(payload), got.Value.Blob.Sha256);
        Assert.True(await store.ExistsAsync(key, default));
    }

    [Fact]
    public async Task An_entry_is_immutable_the_second_writer_keeps_the_first()
    {
        IRemoteCache store = NewStore();
        string key = Key("b");
        byte[] first = Payload(1000, seed: 1), second = Payload(1000, seed: 2);

        Assert.True(await Put(store, key, first, Sha(first)));
        Assert.False(await Put(store, key, second, Sha(second)));

        Assert.Equal(first, (await Get(store, key))!.Value.Content);
    }

    [Fact]
    public async Task Eight_concurrent_writers_of_one_key_leave_one_whole_entry()
    {
        IRemoteCache store = NewStore();
        string key = Key("c");
        byte[][] payloads = Enumerable.Range(0, 8).Select(i => Payload(5 << 20, seed: i)).ToArray();

        bool[] created = await Task.WhenAll(payloads.Select(p => Task.Run(() => Put(store, key, p, Sha(p)))));

        Assert.Equal(1, created.Count(c => c));
        (byte[] content, RemoteBlob blob) = (await Get(store, key))!.Value;
        Assert.Equal(payloads[Array.IndexOf(created, true)], content);
        Assert.Equal(Sha(content), blob.Sha256);
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
            await Put(store, key, p, Sha(p));
        }

        _ = await store.TryLeaseAsync(Key("i"), default); // lock objects are not entries

        List<RemoteCacheItem> listed = await ToList(store.ListAsync(default));
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed.Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.All(listed, i => Assert.Equal(100, i.Bytes));

        Assert.True(await store.DeleteAsync(keys[1], ifVersion: null, default));
        Assert.False(await store.DeleteAsync(keys[1], ifVersion: null, default));
        Assert.Equal(2, (await ToList(store.ListAsync(default))).Count);
        Assert.Null(await Get(store, keys[1]));
    }

    /// <summary>A key as the cache makes them: 64 lower-case hex digits.</summary>
    protected static string Key(string seed) => CacheKey.Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed + Guid.NewGuid())));

    /// <summary>Uploads <paramref name="payload"/> as a stream, as the cache does.</summary>
    protected static Task<bool> Put(IRemoteCache store, string key, byte[] payload, string sha) =>
        store.UploadAsync(key, new MemoryStream(payload, writable: false), sha, default);

    /// <summary>Downloads into memory (the cache streams into files); null when there is no entry.</summary>
    protected static async Task<(byte[] Content, RemoteBlob Blob)?> Get(IRemoteCache store, string key)
    {
        using var content = new MemoryStream();
        RemoteBlob? blob = await store.DownloadAsync(key, content, default);
        return blob is null ? null : (content.ToArray(), blob);
    }

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
