using System.Diagnostics;
using System.Text.Json;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;

namespace QuantBuild.Cli.Tests.Commands;

/// <summary>Parallel builds on one machine (MSBuild projects of one solution) share the local cache without doing a key twice.</summary>
public sealed class CacheLockTests : IDisposable
{
    private const string OneTarget = "  x64:\n    device: cpu-x64-vnni\n";

    private readonly string _cache = Path.Combine(Path.GetTempPath(), "quantbuild-lock-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Four_concurrent_runs_of_one_key_quantize_it_once_and_the_others_wait_for_its_result()
    {
        SampleWorkspace[] works = Enumerable.Range(0, 4).Select(_ => new SampleWorkspace(OneTarget)).ToArray();
        try
        {
            var results = await Task.WhenAll(works.Select(w => Task.Run(() => CliRunner.Run("run", "--json", "-c", w.ConfigPath, "--cache", _cache))));

            Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Error));
            bool[] cached = results.Select(r => JsonDocument.Parse(r.Out).RootElement.GetProperty("targets")[0].GetProperty("cached").GetBoolean()).ToArray();
            Assert.Equal(1, cached.Count(c => !c));
            byte[] model = File.ReadAllBytes(Path.Combine(works[0].Output, "model.x64.onnx"));
            Assert.All(works, w => Assert.Equal(model, File.ReadAllBytes(Path.Combine(w.Output, "model.x64.onnx"))));
            Assert.Single(Directory.GetFiles(_cache, "entry.json", SearchOption.AllDirectories));
        }
        finally
        {
            foreach (SampleWorkspace w in works)
            {
                w.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_lock_whose_holder_is_killed_with_SIGKILL_is_free_at_once()
    {
        using var work = new SampleWorkspace(OneTarget, extra: "cache:\n  lock_wait_seconds: 120\n");
        QuantizeConfig config = QuantizeConfigLoader.Load(work.ConfigPath);
        string key = TargetCache.Open(new ResultCache(_cache), config, plugins: null).KeyFor(config.Targets[0])!;
        string lockFile = Path.Combine(_cache, "locks", key + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        // Another build holding the key: flock(1) takes the same kernel lock .NET's FileShare.None does (-o: held by
        // flock itself, not inherited by its sleeping child).
        using Process holder = Process.Start("flock", ["-x", "-o", lockFile, "sleep", "300"]);
        while (!File.Exists(lockFile))
        {
            await Task.Delay(50);
        }

        await Task.Delay(500);
        Task<(int ExitCode, string Out, string Error)> run = Task.Run(() => CliRunner.Run("run", "--json", "-c", work.ConfigPath, "--cache", _cache));
        await Task.Delay(TimeSpan.FromSeconds(6));
        holder.Kill(entireProcessTree: true); // SIGKILL: the holder runs no cleanup; only the kernel can drop its lock

        (int code, string stdout, string stderr) = await run.WaitAsync(TimeSpan.FromSeconds(100));

        Assert.True(code == 0, stderr);
        JsonElement target = JsonDocument.Parse(stdout).RootElement.GetProperty("targets")[0];
        Assert.False(target.GetProperty("cached").GetBoolean());
        double waited = target.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == TargetCache.Stage).GetProperty("seconds").GetDouble();
        Assert.InRange(waited, 5, 60); // it waited for the holder, and not for lock_wait_seconds
        Assert.DoesNotContain("QB5103", stderr, StringComparison.Ordinal);
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
}
