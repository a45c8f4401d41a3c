using System.Text.Json;

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
