using System.Text.Json;

namespace QuantBuild.Cli.Tests.Commands;

public sealed class AnalyzeCommandTests
{
    [Fact]
    public void Analyze_json_lists_every_layer_worst_first_with_the_ladder_and_writes_the_report()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnni\n");

        (int code, string stdout, string stderr) = CliRunner.Run("analyze", "-c", ws.ConfigPath, "--samples", "100", "--no-kernel-check", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        JsonElement target = json.RootElement.GetProperty("targets")[0];
        Assert.Equal("x64", target.GetProperty("target").GetString());
        Assert.Equal(100, target.GetProperty("trialSamples").GetInt64());
        JsonElement[] layers = target.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(5, layers.Length);
        Assert.Equal(Enumerable.Range(1, 5), layers.Select(l => l.GetProperty("rank").GetInt32()));
        Assert.All(layers, l => Assert.True(l.GetProperty("weightWorstRatio").GetDouble() >= 1));
        Assert.Equal(23, target.GetProperty("ladder").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(ws.Output, "quantbuild-analysis.html")));
    }

    [Fact]
    public void Analyze_prints_a_table_and_the_worst_layer_sentence()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnni\n");

        (int code, string stdout, string stderr) = CliRunner.Run("analyze", "-c", ws.ConfigPath, "--samples", "100", "--no-ladder", "--no-kernel-check");

        Assert.True(code == 0, stderr);
        Assert.Contains("Worst layer:", stdout, StringComparison.Ordinal);
        Assert.Contains("/features/features.0/Conv", stdout, StringComparison.Ordinal);
        Assert.Contains("first 100 of 2000", stdout, StringComparison.Ordinal);
    }
}
