using System.Text.Json;

namespace QuantBuild.Cli.Tests.Commands;

/// <summary>The result cache as `quantbuild run` uses it: hits, keys, damaged entries, concurrent writers.</summary>
public sealed class RunCacheTests : IDisposable
{
    private const string OneTarget = "  x64:\n    device: cpu-x64-vnni\n";

    private readonly string _cache = Path.Combine(Path.GetTempPath(), "quantbuild-cache-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Second_run_is_a_cache_hit_with_byte_identical_model_and_manifest()
    {
        using var work = new SampleWorkspace(OneTarget);
        JsonElement first = Run(work);
        Assert.False(first.GetProperty("cached").GetBoolean());
        byte[] model = File.ReadAllBytes(Path.Combine(work.Output, "model.x64.onnx"));
        byte[] manifest = File.ReadAllBytes(Path.Combine(work.Output, "model.x64.manifest.json"));
        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(work.Output, "model.x64.onnx"));

        JsonElement second = Run(work);

        Assert.True(second.GetProperty("cached").GetBoolean());
        Assert.Contains(second.GetProperty("stages").EnumerateArray(), s => s.GetProperty("stage").GetString() == "cache");
        Assert.Equal(first.GetProperty("quantizedValue").GetDouble(), second.GetProperty("quantizedValue").GetDouble());
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(work.Output, "model.x64.onnx")));
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(work.Output, "model.x64.manifest.json")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(work.Output, "model.x64.onnx")));
    }

    [Fact]
    public void Changing_the_gate_or_the_data_changes_the_key()
    {
        using (var work = new SampleWorkspace(OneTarget))
        {
            Run(work);
            Assert.True(Run(work).GetProperty("cached").GetBoolean());
        }

        using (var looser = new SampleWorkspace(OneTarget, gateYaml: "gate:\n  max_drop: 0.75\n"))
        {
            Assert.False(Run(looser).GetProperty("cached").GetBoolean());
        }

        using var moved = new SampleWorkspace(OneTarget);
        string labels = Path.Combine(moved.Root, "labels.npy");
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "fashion-mnist", "data", "eval_labels.npy"), labels);
        byte[] bytes = File.ReadAllBytes(labels);
        bytes[^8] = (byte)((bytes[^8] + 1) % 10); // the last int64 label changes class: same shape, different content
        File.WriteAllBytes(labels, bytes);
        File.WriteAllText(moved.ConfigPath, File.ReadAllText(moved.ConfigPath).Replace(
            Path.Combine(RepoPaths.Root, "samples", "fashion-mnist", "data", "eval_labels.npy"), labels));
        Assert.False(Run(moved).GetProperty("cached").GetBoolean());
    }

    [Fact]
    public void A_damaged_entry_is_detected_deleted_and_rebuilt()
    {
        using var work = new SampleWorkspace(OneTarget);
        Run(work);
        byte[] good = File.ReadAllBytes(Path.Combine(work.Output, "model.x64.onnx"));
        string entryModel = Directory.GetFiles(_cache, "model.onnx", SearchOption.AllDirectories).Single();
        using (var stream = new FileStream(entryModel, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2); // truncated, as a crash or a full disk would leave it
        }

        JsonElement rebuilt = Run(work);

        Assert.False(rebuilt.GetProperty("cached").GetBoolean());
        Assert.Equal(good, File.ReadAllBytes(Path.Combine(work.Output, "model.x64.onnx")));
        Assert.Equal(good, File.ReadAllBytes(Directory.GetFiles(_cache, "model.onnx", SearchOption.AllDirectories).Single()));
        Assert.True(Run(work).GetProperty("cached").GetBoolean());
    }

    [Fact]
    public async Task Two_concurrent_runs_of_the_same_key_both_succeed()
    {
        using var a = new SampleWorkspace(OneTarget);
        using var b = new SampleWorkspace(OneTarget);

        var runs = new[] { a, b }.Select(w => Task.Run(() => CliRunner.Run("run", "--json", "-c", w.ConfigPath, "--cache", _cache))).ToArray();
        var results = await Task.WhenAll(runs);

        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Output, "model.x64.onnx")), File.ReadAllBytes(Path.Combine(b.Output, "model.x64.onnx")));
        Assert.Single(Directory.GetFiles(_cache, "entry.json", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetDirectories(_cache, ".tmp-*", SearchOption.AllDirectories));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cache, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private JsonElement Run(SampleWorkspace work)
    {
        (int code, string stdout, string stderr) = CliRunner.Run("run", "--json", "-c", work.ConfigPath, "--cache", _cache);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.GetProperty("targets")[0].Clone();
    }
}
