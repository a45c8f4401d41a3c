using System.Text.Json;
using System.Text.Json.Nodes;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>Issue 17: one run quantizes independent targets at once, within the memory budget, and writes the same bytes as one after another.</summary>
public sealed class ParallelTargetsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Targets_quantized_in_parallel_write_the_same_models_and_manifests_as_one_after_another()
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 128
              method: percentile
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
              x64-avx2:
                device: cpu-x64-avx2
              arm64:
                device: cpu-arm64
            """);
        QuantizeConfig config = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        var budget = new MemoryBudget(4L << 30);

        RunResult sequential = new QuantizePipeline(config).Run(new PipelineOptions
        {
            OutputDirectory = _temp.P("one"), LayerProbeSamples = 16, MemoryBudget = budget, MaxParallelTargets = 1,
        });
        var events = new Capture();
        using Logger log = new LoggerConfiguration().WriteTo.Sink(events).CreateLogger();
        RunResult parallel = new QuantizePipeline(config, log).Run(new PipelineOptions
        {
            OutputDirectory = _temp.P("three"), LayerProbeSamples = 16, MemoryBudget = budget, MaxParallelTargets = 3,
        });

        Assert.All(parallel.Targets, t => Assert.True(t.Status == TargetStatus.Passed, t.Error));
        Assert.Equal(sequential.Targets.Select(t => t.Name), parallel.Targets.Select(t => t.Name));
        foreach ((TargetResult one, TargetResult three) in sequential.Targets.Zip(parallel.Targets))
        {
            Assert.Equal(File.ReadAllBytes(one.OutputPath!), File.ReadAllBytes(three.OutputPath!));
            Assert.Equal(WithoutTimes(one.ManifestPath!), WithoutTimes(three.ManifestPath!));
            Assert.Equal(one.QuantizedValue, three.QuantizedValue);
            Assert.Equal(one.Layers, three.Layers);
            // Every stage still reports its peak memory (process-wide while targets overlap).
            Assert.All(three.Stages, s => Assert.True(s.PeakRssBytes > 0, s.Stage));
        }

        // Interleaved lines still say whose they are.
        Assert.Contains(events.Lines, l => l.StartsWith("[arm64] Calibrated ", StringComparison.Ordinal));
        Assert.Contains(events.Lines, l => l.StartsWith("[x64-avx2] Calibrated ", StringComparison.Ordinal));
        Assert.Contains(events.Lines, l => l.StartsWith("Quantizing 3 targets, 3 at a time", StringComparison.Ordinal));
    }

    [Fact]
    public void Parallelism_is_how_many_targets_fit_in_the_budget_beside_the_shared_weights()
    {
        const long GiB = 1L << 30;
        // (4 GiB − 1 GiB) / (1 GiB + 256 MiB) = 2 targets fit; each gets the weights plus half of what is left.
        TargetParallelism two = TargetParallelism.For(4 * GiB, GiB, targets: 5, requested: 8);
        Assert.Equal((2, GiB + (3 * GiB / 2)), (two.Concurrency, two.ShareBytes));

        // A model as large as the budget runs one target at a time with the whole budget, as before.
        Assert.Equal(new TargetParallelism(1, 2 * GiB), TargetParallelism.For(2 * GiB, 2 * GiB, targets: 3, requested: null));

        // --parallel 1 only serializes: each target's share (and so its batch sizes and bytes) stays the same.
        TargetParallelism one = TargetParallelism.For(4 * GiB, GiB, targets: 5, requested: 1);
        Assert.Equal((1, two.ShareBytes), (one.Concurrency, one.ShareBytes));

        // Never more at once than there are targets or (by default) processors.
        Assert.Equal(1, TargetParallelism.For(64 * GiB, GiB / 1024, targets: 1, requested: null).Concurrency);
        Assert.Equal(Math.Min(3, Environment.ProcessorCount), TargetParallelism.For(64 * GiB, GiB / 1024, targets: 3, requested: null).Concurrency);
    }

    private sealed class Capture : ILogEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public void Emit(LogEvent logEvent) => _lines.Enqueue(logEvent.RenderMessage());
    }

    private static string WithoutTimes(string manifestPath)
    {
        JsonNode manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        // Stage times differ run to run; everything else in the manifest must not.
        manifest.AsObject().Remove("stages");
        return manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
