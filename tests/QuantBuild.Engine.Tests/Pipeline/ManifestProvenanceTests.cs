using System.Security.Cryptography;
using System.Text.Json;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>A manifest says which plugin made the model, which widths its weights really have, and no build-machine folder.</summary>
public sealed class ManifestProvenanceTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_manifest_names_the_plugin_its_version_and_hash_and_the_bits_written_per_layer_with_file_names_only()
    {
        string plugin = Fixtures.CopyOf("PercentileClipPlugin", _temp.P("plugins"));
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 64
            plugins:
              - path: plugins/PercentileClipPlugin
            targets:
              x64-w4:
                device: cpu-x64-vnni
                weights:
                  bits: 4
                recipe:
                  - pass: percentile-clip
                    steps: 11
            """);
        QuantizeConfig config = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        using PluginHost host = PluginHost.Load(config, Fixtures.NoFirstParty);

        RunResult run = new QuantizePipeline(config, plugins: host).Run(new PipelineOptions { LayerProbeSamples = 8, WriteReports = false });

        TargetResult target = Assert.Single(run.Targets);
        Assert.True(target.Status == TargetStatus.Passed, target.Error);
        string text = File.ReadAllText(target.ManifestPath!);
        Assert.DoesNotContain(_temp.Path, text);
        Assert.DoesNotContain(Path.GetDirectoryName(TestFiles.Sample("calibration.npy"))!, text);
        using JsonDocument manifest = JsonDocument.Parse(text);
        JsonElement root = manifest.RootElement;
        Assert.Equal("model.onnx", root.GetProperty("source").GetProperty("path").GetString());
        Assert.Equal("model.x64-w4.onnx", root.GetProperty("model").GetProperty("path").GetString());

        JsonElement used = Assert.Single(root.GetProperty("plugins").EnumerateArray());
        string dll = Path.Combine(plugin, "PercentileClipPlugin.dll");
        Assert.Equal("PercentileClipPlugin", used.GetProperty("name").GetString());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(dll))).ToLowerInvariant(), used.GetProperty("sha256").GetString());
        Assert.Equal(["percentile-clip"], used.GetProperty("passes").EnumerateArray().Select(p => p.GetString()));
        Assert.False(string.IsNullOrEmpty(used.GetProperty("version").GetString()));

        // bits: 4 asked, but the sample is Conv/Gemm: the percentile-clip codes are int8, and the manifest says so.
        JsonElement written = root.GetProperty("weights").GetProperty("written");
        Assert.Equal(4, root.GetProperty("weights").GetProperty("bits").GetInt32());
        Assert.False(written.TryGetProperty("4", out _), written.ToString());
        Assert.Equal(5, written.GetProperty("8").GetArrayLength());
    }
}
