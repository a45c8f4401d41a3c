using System.Security.Cryptography;
using System.Text.Json;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// Issue 15's leftovers: an unexpected exception stays inside its target (QB0001, the others ship), and a model's
/// manifest is written with it, so a run stopped after one target leaves that target complete.
/// </summary>
public sealed class TargetIsolationTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private QuantizeConfig TwoTargets()
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 64
            evaluation:
              data: {TestFiles.Sample("eval_images.npy")}
              labels: {TestFiles.Sample("eval_labels.npy")}
              metric: top1
              batch_size: 500
            gate:
              max_drop: 5
            targets:
              x64:
                device: cpu-x64-vnni
              arm64:
                device: cpu-arm64
            """);
        return QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
    }

    [Fact]
    public void An_unexpected_exception_in_one_target_fails_it_with_QB0001_and_the_other_still_ships_with_manifest_and_report()
    {
        // A progress sink that breaks while arm64 calibrates: an InvalidOperationException from deep inside a stage,
        // which no stage expects (not a QuantBuildException, not out of memory).
        var broken = new StageProgressSink(p =>
        {
            if (p.Stage == "calibrate arm64")
            {
                throw new InvalidOperationException("the progress sink broke");
            }
        });

        RunResult run = new QuantizePipeline(TwoTargets()).Run(new PipelineOptions { LayerProbeSamples = 4, Progress = broken, MaxParallelTargets = 1 });

        TargetResult x64 = run.Targets.Single(t => t.Name == "x64");
        TargetResult arm64 = run.Targets.Single(t => t.Name == "arm64");
        Assert.True(x64.Status == TargetStatus.Passed, x64.Error);
        Assert.True(File.Exists(x64.OutputPath) && File.Exists(x64.ManifestPath), "x64 ships with its manifest");
        Assert.Equal((TargetStatus.Error, "QB0001"), (arm64.Status, arm64.ErrorCode));
        Assert.Contains("System.InvalidOperationException: the progress sink broke", arm64.Error, StringComparison.Ordinal);
        Assert.Contains("this is a bug", arm64.Error, StringComparison.Ordinal);
        Assert.Null(arm64.OutputPath);
        Assert.False(File.Exists(_temp.P("out/model.arm64.onnx")));
        Assert.False(File.Exists(_temp.P("out/model.arm64.manifest.json")));
        Assert.Contains(arm64.Stages, s => s.Stage == "plan");
        Assert.True(File.Exists(run.ReportMarkdownPath), "the report is written for the targets that ran");
        Assert.Contains("QB0001", File.ReadAllText(run.ReportMarkdownPath!), StringComparison.Ordinal);
        Assert.False(run.AllPassed);
    }

    [Fact]
    public void A_run_stopped_after_its_first_target_leaves_that_model_beside_its_manifest()
    {
        // Cancelling as the second target starts stands in for a kill between targets: before the Package stage wrote
        // manifests, they were written only after the last target, so the first model was left without one.
        using var stop = new CancellationTokenSource();
        var progress = new StageProgressSink(p =>
        {
            if (p.Stage == "calibrate arm64")
            {
                stop.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => new QuantizePipeline(TwoTargets())
            .Run(new PipelineOptions { LayerProbeSamples = 4, Progress = progress, MaxParallelTargets = 1 }, stop.Token));

        string model = _temp.P("out/model.x64.onnx");
        string manifest = _temp.P("out/model.x64.manifest.json");
        Assert.True(File.Exists(model) && File.Exists(manifest));
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(manifest));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(model))).ToLowerInvariant(),
            json.RootElement.GetProperty("model").GetProperty("sha256").GetString());
        Assert.Equal("Passed", json.RootElement.GetProperty("verdict").GetString());
        Assert.False(File.Exists(_temp.P("out/model.arm64.onnx")));
        Assert.Empty(Directory.EnumerateFiles(_temp.P("out"), "*.tmp"));
    }

    private sealed class StageProgressSink(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }
}
