using System.Text.Json;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Tests.Shared;

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

    [Fact]
    public void Analyze_says_on_the_console_and_in_json_why_a_loop_body_layer_calibration_could_not_observe_stays_fp32()
    {
        // The engine tests' loop_growing fixture: a Loop whose carried sequence grows a row per step, so the body's
        // MatMul on it sees a different shape in every iteration.
        using var ws = new SampleWorkspace(string.Empty);
        File.Copy(Path.Combine(RepoPaths.Root, "tests", "QuantBuild.Engine.Tests", "Quantization", "Fixtures", "loop_growing.onnx"), Path.Combine(ws.Root, "model.onnx"));
        var random = new Random(60);
        NpyFiles.Write(Path.Combine(ws.Root, "calibration.npy"), DenseTensor.FromFloats(Enumerable.Range(0, 16 * 16).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray(), 16, 16));
        File.WriteAllText(ws.ConfigPath, "model: model.onnx\noutput: out\ncalibration: { data: calibration.npy, batch_size: 4 }\ntargets:\n  int8: { device: cpu-x64-vnni }\n");

        (int code, string stdout, string stderr) = CliRunner.Run("analyze", "-c", ws.ConfigPath, "--samples", "8", "--no-ladder", "--no-kernel-check", "--json");
        (int consoleCode, string console, string consoleErrors) = CliRunner.Run("analyze", "-c", ws.ConfigPath, "--samples", "8", "--no-ladder", "--no-kernel-check");

        Assert.True(code == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        JsonElement target = json.RootElement.GetProperty("targets")[0];
        string why = target.GetProperty("unobserved").GetProperty("seq_in").GetString()!;
        Assert.StartsWith("'seq_in' changes shape between loop iterations", why, StringComparison.Ordinal);
        JsonElement fp32 = target.GetProperty("floatNodes").EnumerateArray().Single(n => n.GetProperty("node").GetString() == "grow_seq_matmul");
        Assert.Equal(why, fp32.GetProperty("reason").GetString());
        Assert.Equal(["grow_row_matmul"], target.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("node").GetString()));
        Assert.True(consoleCode == 0, consoleErrors);
        Assert.Contains("not calibrated: 'seq_in' changes shape between loop iterations", console, StringComparison.Ordinal);
        Assert.Contains("fp32 for want of its range: grow_seq_matmul", console, StringComparison.Ordinal);
    }
}
