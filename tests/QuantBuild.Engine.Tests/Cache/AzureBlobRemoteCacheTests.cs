using System.Diagnostics;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Tests.Shared;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Engine.Tests.Cache;

/// <summary>
/// The Azure Blob backend against a real server (Azurite, or the account in $QUANTBUILD_TEST_CACHE_CONNECTION): the
/// shared contract, plus what only blobs can show (staged blocks stay invisible) and what the run makes of a damaged
/// entry or a server that is down.
/// </summary>
public sealed class AzureBlobRemoteCacheTests(BlobServer server) : RemoteCacheContract, IClassFixture<BlobServer>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly Plugins.TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    protected override IRemoteCache NewStore() => Store(server.NewContainer());

    [Fact]
    public async Task Blocks_staged_but_not_committed_are_never_an_entry()
    {
        string container = server.NewContainer();
        IRemoteCache store = Store(container);
        string key = Key("staged");
        // What a QuantBuild writer killed between staging and committing leaves behind (its block ids have the same form).
        BlockBlobClient blob = server.Container(container).GetBlockBlobClient($"p/{key[..2]}/{key}.qbentry");
        await blob.StageBlockAsync(Convert.ToBase64String(Encoding.ASCII.GetBytes($"{Guid.NewGuid():N}-000000")), new MemoryStream(Payload(1 << 20, 3)));

        Assert.False(await store.ExistsAsync(key, default));
        Assert.Null(await Get(store, key));
        Assert.DoesNotContain(await ToKeys(store), k => k == key);

        // and the next writer's commit is not blocked by them
        byte[] payload = Payload(2000, 4);
        Assert.True(await Put(store, key, payload, Sha(payload)));
        Assert.Equal(payload, (await Get(store, key))!.Value.Content);
    }

    [Fact]
    public async Task A_damaged_entry_is_ignored_with_QB5101_and_deleted_so_a_good_one_can_replace_it()
    {
        IRemoteCache store = NewStore();
        var log = new Capture();
        var remote = new RemoteResultCache(store, Logger(log), Timeout);
        CacheEntry good = Entry(Key("damaged"));
        byte[] payload = Payload(good);
        byte[] flipped = (byte[])payload.Clone();
        flipped[^10] ^= 0x40; // one bit of the external-data file, as a bad disk or a truncated copy would change it
        Assert.True(await Put(store, good.Key, flipped, CachePayload.Sha256(good)));

        Assert.Null(remote.TryGet(good.Key, "x64", _temp.P("download1")));

        Assert.Contains(log.Warnings, w => w.Contains("warning QB5101", StringComparison.Ordinal) && w.Contains("x64", StringComparison.Ordinal));
        Assert.True(remote.IsAvailable);
        Assert.False(await store.ExistsAsync(good.Key, default));
        remote.UploadBehind(good, "x64", lease: null);
        Assert.Equal(0, remote.Complete(TimeSpan.FromSeconds(30)));
        CacheEntry restored = remote.TryGet(good.Key, "x64", _temp.P("download2"))!;
        Assert.Equal(File.ReadAllBytes(good.ModelPath), File.ReadAllBytes(restored.ModelPath));
        Assert.Equal(File.ReadAllBytes(good.PathOf(good.Data[0])), File.ReadAllBytes(restored.PathOf(restored.Data.Single())));
    }

    [Fact]
    public async Task A_truncated_entry_is_damaged_not_an_entry()
    {
        IRemoteCache store = NewStore();
        var log = new Capture();
        var remote = new RemoteResultCache(store, Logger(log), Timeout);
        CacheEntry good = Entry(Key("cut"));
        byte[] payload = Payload(good);
        Assert.True(await Put(store, good.Key, payload[..^4096], CachePayload.Sha256(good)));

        Assert.Null(remote.TryGet(good.Key, "x64", _temp.P("download")));

        Assert.Contains(log.Warnings, w => w.Contains("warning QB5101", StringComparison.Ordinal) && w.Contains("ends before its last file", StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_that_is_down_costs_one_bounded_wait_and_one_QB5100_warning()
    {
        var log = new Capture();
        IRemoteCache store = RemoteCacheFactory.Create(
            new Engine.Config.RemoteCacheConfig { Kind = "azure-blob", Container = "down", TimeoutSeconds = 2 },
            _ => BlobServer.Unreachable, out string? problem)!;
        Assert.Null(problem);
        var remote = new RemoteResultCache(store, Logger(log), TimeSpan.FromSeconds(2));

        var clock = Stopwatch.StartNew();
        Assert.Null(remote.TryGet(Key("x"), "x64", _temp.P("down")));
        Assert.Null(remote.TryLease(Key("y"), out bool busy));
        Assert.False(remote.Exists(Key("z")));
        remote.UploadBehind(Entry(Key("w")), "arm64", lease: null);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.False(busy);
        Assert.False(remote.IsAvailable);
        Assert.Single(log.Warnings, w => w.Contains("warning QB5100", StringComparison.Ordinal));
        Assert.Single(log.Warnings, w => w.Contains("warning QB5102", StringComparison.Ordinal) && w.Contains("arm64", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_the_connection_variable_the_remote_is_off_with_QB5104_naming_it()
    {
        var log = new Capture();
        var config = new Engine.Config.QuantizeConfig
        {
            ConfigPath = "/w/quantize.yaml", BaseDirectory = "/w", ModelPath = "/w/m.onnx", OutputDirectory = "/w/q",
            Calibration = new Engine.Config.CalibrationConfig { Data = new Engine.Config.DataSourceConfig { Kind = Engine.Config.DataSourceKind.Npy, Path = "/w/c.npy" } },
            Plugins = [], Targets = [],
            Cache = new Engine.Config.CacheConfig { Remote = new Engine.Config.RemoteCacheConfig { Kind = "azure-blob", Container = "c1x", ConnectionVariable = "MY_CACHE" } },
        };

        Assert.Null(RemoteCacheFactory.Open(config, Logger(log), _ => null));
        Assert.Contains(log.Warnings, w => w.Contains("warning QB5104", StringComparison.Ordinal) && w.Contains("MY_CACHE", StringComparison.Ordinal));
    }

    [Fact]
    public void A_container_SAS_URL_for_another_container_is_refused()
    {
        Assert.Throws<ArgumentException>(() => AzureBlobRemoteCache.Connect("https://acct.blob.core.windows.net/other?sv=2024-01-01&sig=x", "mine", Timeout));
        Assert.Equal("mine", AzureBlobRemoteCache.Connect("https://acct.blob.core.windows.net/mine?sv=2024-01-01&sig=x", "mine", Timeout).Name);
        Assert.Equal("mine", AzureBlobRemoteCache.Connect("https://acct.blob.core.windows.net/?sv=2024-01-01&sig=x", "mine", Timeout).Name);
    }

    private IRemoteCache Store(string container) =>
        new AzureBlobRemoteCache(AzureBlobRemoteCache.Connect(server.ConnectionString, container, Timeout), "p/");

    // A local entry with a model and a 5 MB external-data file (more than one 4 MB block).
    private CacheEntry Entry(string key)
    {
        string folder = _temp.P("source-" + key[..8]);
        Directory.CreateDirectory(folder);
        byte[] model = Payload(3000, key[0]), data = Payload(5 << 20, key[1]);
        File.WriteAllBytes(Path.Combine(folder, "model.x64.onnx"), model);
        File.WriteAllBytes(Path.Combine(folder, "model.x64.onnx.data"), data);
        var result = new TargetResult { Name = "x64", Device = "cpu-x64-vnni", Status = TargetStatus.Passed, QuantizedBytes = model.Length + data.Length };
        return new ResultCache(_temp.P("cache")).Store(key, Path.Combine(folder, "model.x64.onnx"), [Path.Combine(folder, "model.x64.onnx.data")], result)!;
    }

    private static byte[] Payload(CacheEntry entry)
    {
        using Stream payload = CachePayload.Open(entry);
        using var bytes = new MemoryStream();
        payload.CopyTo(bytes);
        Assert.Equal(CachePayload.Length(entry), bytes.Length);
        return bytes.ToArray();
    }

    private static async Task<List<string>> ToKeys(IRemoteCache store)
    {
        var keys = new List<string>();
        await foreach (RemoteCacheItem item in store.ListAsync(default))
        {
            keys.Add(item.Key);
        }

        return keys;
    }

    private static ILogger Logger(Capture capture) => new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(capture).CreateLogger();

    private sealed class Capture : ILogEventSink
    {
        private readonly List<string> _warnings = new();

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return _warnings.ToList();
                }
            }
        }

        public void Emit(LogEvent logEvent)
        {
            if (logEvent.Level == LogEventLevel.Warning)
            {
                lock (_warnings)
                {
                    _warnings.Add(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", string.Empty, StringComparison.Ordinal));
                }
            }
        }
    }
}
