using System.Text.Json;
using QuantBuild.Engine.Cache;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Cli.Tests.Commands;

/// <summary>
/// The shared cache end to end, on the fashion-mnist sample's own quantize.yaml and a real blob server (Azurite, or the
/// account in $QUANTBUILD_TEST_CACHE_CONNECTION): agents with empty local caches share one container.
/// </summary>
public sealed class RemoteCacheTests(BlobServer server) : IClassFixture<BlobServer>, IDisposable
{
    private static readonly string[] TargetNames = ["x64", "x64-avx2", "arm64"];

    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "qb-remote-cache-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Agent_B_downloads_what_agent_A_quantized_and_writes_byte_identical_models()
    {
        string container = server.NewContainer();
        Agent a = NewAgent("a", container, server.ConnectionString);
        Agent b = NewAgent("b", container, server.ConnectionString);

        (JsonElement runA, string logA) = a.Run();
        (JsonElement runB, string logB) = b.Run();

        Assert.All(Targets(runA), t => Assert.False(t.GetProperty("cached").GetBoolean()));
        Assert.Contains(Stages(runA), s => s == "baseline");
        Assert.DoesNotContain("warning", logA, StringComparison.Ordinal);

        // B quantized nothing: no fp32 baseline in its run, every target restored from the container, and each target's
        // calibrate/encode/evaluate times are A's numbers (a run measuring them again never reproduces them).
        Assert.DoesNotContain(Stages(runB), s => s == "baseline");
        Assert.All(Targets(runB), t => Assert.True(t.GetProperty("cached").GetBoolean()));
        Assert.Equal(3, CountOf(logB, "restored from the shared cache"));
        Assert.DoesNotContain("warning", logB, StringComparison.Ordinal);
        foreach (string target in TargetNames)
        {
            // B did no work: its only stage is the lookup; the manifest keeps A's stage times (recordedStages).
            Assert.Empty(WorkStages(runB, target));
            Assert.Contains(WorkStages(runA, target), s => s.StartsWith("calibrate=", StringComparison.Ordinal));
            Assert.Equal(WorkStages(runA, target), WorkStages(runB, target, "recordedStages"));
            Assert.Equal(File.ReadAllBytes(a.Model(target)), File.ReadAllBytes(b.Model(target)));
            Assert.Equal(File.ReadAllBytes(a.Manifest(target)), File.ReadAllBytes(b.Manifest(target)));
        }

        // Read-through: B keeps what it downloaded, so its next run needs neither the remote nor any work.
        (JsonElement again, _) = b.Run("--no-remote-cache");
        Assert.All(Targets(again), t => Assert.True(t.GetProperty("cached").GetBoolean()));
    }

    [Fact]
    public void With_the_remote_down_a_run_still_succeeds_locally_with_a_QB5100_warning()
    {
        using var own = new BlobServer(); // taken down below, so not the class's shared server
        string container = own.NewContainer();
        NewAgent("a", container, own.ConnectionString).Run();
        own.Stop();
        string down = own.IsEmulator ? own.ConnectionString : BlobServer.Unreachable;
        Agent c = NewAgent("c", container, down);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        (JsonElement run, string log) = c.Run();

        Assert.All(Targets(run), t =>
        {
            Assert.Equal("passed", t.GetProperty("status").GetString());
            Assert.False(t.GetProperty("cached").GetBoolean());
        });
        Assert.Equal(1, CountOf(log, "warning QB5100"));
        Assert.Equal(3, CountOf(log, "warning QB5102")); // each passed result says it was not uploaded, and how to push it later
        Assert.Contains("quantize.yaml(", log.Split('\n').Single(l => l.Contains("warning QB5100", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"the run took {clock.Elapsed} with the remote down");
        Assert.Equal(3, Directory.GetFiles(c.Cache, "entry.json", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Eight_parallel_agents_on_one_container_quantize_each_target_once_and_leave_no_corrupt_entry()
    {
        string container = server.NewContainer();
        Agent[] agents = Enumerable.Range(0, 8).Select(i => NewAgent($"p{i}", container, server.ConnectionString)).ToArray();

        var runs = await Task.WhenAll(agents.Select(agent => Task.Run(() => agent.Run())));

        foreach (string target in TargetNames)
        {
            JsonElement[] results = runs.Select(r => Targets(r.Run).Single(t => t.GetProperty("name").GetString() == target)).ToArray();
            Assert.All(results, t => Assert.Equal("passed", t.GetProperty("status").GetString()));
            Assert.Equal(1, results.Count(t => !t.GetProperty("cached").GetBoolean())); // the key's lease let one agent do it
            byte[] model = File.ReadAllBytes(agents[0].Model(target));
            Assert.All(agents, agent => Assert.Equal(model, File.ReadAllBytes(agent.Model(target))));
        }

        Assert.All(runs, r => Assert.DoesNotContain("warning", r.Log, StringComparison.Ordinal));
        IRemoteCache store = new AzureBlobRemoteCache(AzureBlobRemoteCache.Connect(server.ConnectionString, container, TimeSpan.FromSeconds(30)), "fashion-mnist/");
        var entries = new List<RemoteCacheItem>();
        await foreach (RemoteCacheItem item in store.ListAsync(default))
        {
            entries.Add(item);
        }

        Assert.Equal(3, entries.Count);
        foreach (RemoteCacheItem item in entries)
        {
            string folder = Path.Combine(Path.GetTempPath(), "qb-remote-" + Guid.NewGuid().ToString("N"));
            try
            {
                CacheEntry? entry;
                string? problem;
                using (CachePayload.Sink sink = CachePayload.Unpack(item.Key, folder))
                {
                    RemoteBlob blob = (await store.DownloadAsync(item.Key, sink, default))!;
                    entry = sink.Finish(blob.Sha256);
                    problem = sink.Problem;
                }

                Assert.True(entry is not null, problem); // entry.json's sha256, layout, key and each file's sha256 all check
                byte[] model = File.ReadAllBytes(entry!.ModelPath);
                Assert.Contains(TargetNames, name => File.ReadAllBytes(agents[0].Model(name)).AsSpan().SequenceEqual(model));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void Push_uploads_what_was_stored_locally_and_stats_and_prune_see_both_tiers()
    {
        string container = server.NewContainer();
        Agent a = NewAgent("a", container, server.ConnectionString);
        a.Run("--no-remote-cache");

        Assert.Equal((3, 0), a.Stats());
        (int code, string stdout, string stderr) = CliRunner.Run("cache", "push", "-c", a.Config, "--cache", a.Cache);
        Assert.True(code == 0, stderr);
        Assert.Contains("3 entries uploaded, 0 already there", stdout, StringComparison.Ordinal);
        Assert.Equal((3, 3), a.Stats());
        Assert.Contains("0 entries uploaded, 3 already there", CliRunner.Run("cache", "push", "-c", a.Config, "--cache", a.Cache).Out, StringComparison.Ordinal);

        (code, stdout, stderr) = CliRunner.Run("cache", "prune", "--max-size", "0", "--remote", "-c", a.Config, "--cache", a.Cache);
        Assert.True(code == 0, stderr);
        Assert.Equal((0, 0), a.Stats());

        // and an agent with no credential cannot push: an error naming the variable, not a silent no-op
        Agent keyless = NewAgent("k", container, connection: null);
        (code, _, stderr) = CliRunner.Run("cache", "push", "-c", keyless.Config, "--cache", keyless.Cache);
        Assert.Equal(1, code);
        Assert.Contains("QB5104", stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static IEnumerable<JsonElement> Targets(JsonElement run) => run.GetProperty("targets").EnumerateArray();

    private static IEnumerable<string> Stages(JsonElement run) => run.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()!);

    // A target's stages as "name=seconds", the cache lookup left out (that one is this run's own).
    private static List<string> WorkStages(JsonElement run, string target, string property = "stages") =>
        Targets(run).Single(t => t.GetProperty("name").GetString() == target).GetProperty(property).EnumerateArray()
            .Where(s => s.GetProperty("stage").GetString() != TargetCache.Stage)
            .Select(s => $"{s.GetProperty("stage").GetString()}={s.GetProperty("seconds").GetDouble():R}").ToList();

    private static int CountOf(string text, string part) => text.Split('\n').Count(l => l.Contains(part, StringComparison.Ordinal));

    // The sample's quantize.yaml as it is, with absolute paths, its own output folder and a cache.remote section.
    private Agent NewAgent(string name, string container, string? connection)
    {
        string sample = Path.Combine(RepoPaths.Root, "samples", "fashion-mnist");
        string root = Path.Combine(_scratch, name);
        Directory.CreateDirectory(root);
        string variable = "QB_TEST_CACHE_" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, connection);
        string yaml = File.ReadAllText(Path.Combine(sample, "quantize.yaml"))
            .Replace("model: model.onnx", $"model: {Path.Combine(sample, "model.onnx")}", StringComparison.Ordinal)
            .Replace(" data/", $" {sample}/data/", StringComparison.Ordinal)
            .Replace("output: quantized", $"output: {Path.Combine(root, "out")}", StringComparison.Ordinal)
            + $"\ncache:\n  lock_wait_seconds: 300\n  remote:\n    kind: azure-blob\n    container: {container}\n    prefix: fashion-mnist/\n    connection_env: {variable}\n    timeout_seconds: 5\n";
        Assert.Contains($"{sample}/data/calibration.npy", yaml, StringComparison.Ordinal);
        string config = Path.Combine(root, "quantize.yaml");
        File.WriteAllText(config, yaml);
        return new Agent(config, Path.Combine(root, "cache"), Path.Combine(root, "out"));
    }

    private sealed record Agent(string Config, string Cache, string Output)
    {
        public string Model(string target) => Path.Combine(Output, $"model.{target}.onnx");

        public string Manifest(string target) => Path.Combine(Output, $"model.{target}.manifest.json");

        public (JsonElement Run, string Log) Run(params string[] extra)
        {
            (int code, string stdout, string stderr) = CliRunner.Run(["run", "--json", "-c", Config, "--cache", Cache, .. extra]);
            Assert.True(code == 0, stderr);
            return (JsonDocument.Parse(stdout).RootElement.Clone(), stderr);
        }

        public (int Local, int Remote) Stats()
        {
            (int code, string stdout, string stderr) = CliRunner.Run("cache", "stats", "--json", "-c", Config, "--cache", Cache);
            Assert.True(code == 0, stderr);
            JsonElement[] tiers = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
            return (tiers[0].GetProperty("entries").GetInt32(), tiers[1].GetProperty("entries").GetInt32());
        }
    }
}
