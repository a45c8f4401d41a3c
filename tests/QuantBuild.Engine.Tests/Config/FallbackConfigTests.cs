using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

public sealed class FallbackConfigTests
{
    private const string Head = """
        model: model.onnx
        calibration: { data: data/calibration.npy }
        evaluation: { data: data/eval_images.npy, labels: data/eval_labels.npy, metric: top1 }
        gate: { max_drop: 0.5 }
        targets:

        """;

    [Fact]
    public void Fallback_auto_binds_budget_size_and_require_speedup()
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + """
              x64:
                device: cpu-x64-vnni
                weights: { bits: 4 }
                fallback: auto
                budget: { trials: 12, seconds: 90 }
                size: { max_bits_per_weight: 5.5, max_bytes: 300000 }
                require_speedup: true
            """);

        TargetConfig t = QuantizeConfigLoader.Load(folder.YamlPath).Targets.Single();

        Assert.NotNull(t.Fallback);
        Assert.Equal(12, t.Fallback!.MaxTrials);
        Assert.Equal(90, t.Fallback.MaxSeconds);
        Assert.Equal(5.5, t.Fallback.MaxBitsPerWeight);
        Assert.Equal(300000L, t.Fallback.MaxBytes);
        Assert.True(t.RequireSpeedup);
        Assert.True(t.Fallback.Location.Line > 0);
    }

    [Fact]
    public void Without_fallback_there_is_none_and_defaults_apply_with_it()
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + """
              a: { device: cpu-x64-vnni }
              b: { device: cpu-x64-vnni, fallback: auto }
              c: { device: cpu-x64-vnni, fallback: off }
            """);

        var targets = QuantizeConfigLoader.Load(folder.YamlPath).Targets;

        Assert.Null(targets[0].Fallback);
        Assert.Equal(40, targets[1].Fallback!.MaxTrials);
        Assert.Equal(600, targets[1].Fallback!.MaxSeconds);
        Assert.Null(targets[1].Fallback!.MaxBitsPerWeight);
        Assert.Null(targets[2].Fallback);
        Assert.False(targets[0].RequireSpeedup);
    }

    [Theory]
    [InlineData("fallback: sometimes", "QB1013")]
    [InlineData("budget: { trials: 5 }", "QB1014")]
    [InlineData("fallback: auto, budget: { trials: 0 }", "QB1011")]
    [InlineData("fallback: auto, budget: { tries: 5 }", "QB1003")]
    [InlineData("fallback: auto, size: { max_bits_per_weight: 1 }", "QB1011")]
    [InlineData("require_speedup: maybe", "QB1004")]
    public void Bad_fallback_settings_are_config_errors_at_their_line(string keys, string code)
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + $"  x64: {{ device: cpu-x64-vnni, {keys} }}\n");

        var e = Assert.ThrowsAny<QuantBuildException>(() => QuantizeConfigLoader.Load(folder.YamlPath));

        Assert.Contains(code, e.ToDiagnosticString(), StringComparison.Ordinal);
        Assert.Contains("quantize.yaml(6", e.ToDiagnosticString(), StringComparison.Ordinal);
    }
}
