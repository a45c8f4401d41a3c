using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// The run on the tiny transformer sample: a weight-only 4-bit target runs no calibration pass, every stage reports
/// its peak memory, the written model is what a session on the written file computes, and the run's scratch folder
/// is gone afterwards.
/// </summary>
public sealed class PipelineMemoryTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly Capture _events = new();

    public void Dispose() => _temp.Dispose();

    private static string Sample(string name) => Path.Combine(TestFiles.RepoRoot, "samples", "tiny-transformer", name);

    private RunResult Run(string calibration, MemoryBudget? budget = null)
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {Sample("model.onnx")}
            output: out
            calibration:
              data: {Sample("data/calibration.npy")}
              samples: 64
              method: minmax
            {calibration}
            evaluation:
              data: {Sample("data/eval_inputs.npy")}
              labels: {Sample("data/eval_labels.npy")}
              metric: top1
              batch_size: 64
            gate:
              max_drop: 20
            targets:
              int8:
                device: cpu-x64-vnni
              w4:
                device: cpu-x64-vnni
                weights: {"{"}bits: 4{"}"}
            """);
        QuantizeConfig config = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        using Logger log = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(_events).CreateLogger();
        return new QuantizePipeline(config, log).Run(new PipelineOptions { LayerProbeSamples = 8, WriteReports = false, MemoryBudget = budget });
    }

    [Fact]
    public void A_weight_only_target_skips_calibration_and_every_stage_reports_its_peak_memory()
    {
        RunResult run = Run(string.Empty);

        Assert.All(run.Targets, t => Assert.Null(t.Error));
        Assert.Equal(["\"w4\""], _events.Events.Where(e => e.MessageTemplate.Text.Contains("calibration skipped", StringComparison.Ordinal))
            .Select(e => e.Properties["Target"].ToString()));
        IEnumerable<StageTiming> stages = run.Stages.Concat(run.Targets.SelectMany(t => t.Stages)).Where(s => s.Stage != "cache");
        Assert.All(stages, s => Assert.True(s.PeakRssBytes > 10 << 20, $"{s.Stage}: {s.PeakRssBytes}"));
        Assert.False(Directory.Exists(_temp.P("out/.quantbuild-work")), "the run's workspace is removed");
    }

    [Fact]
    public void A_budget_changes_the_batches_not_the_model_and_the_written_file_runs()
    {
        RunResult small = Run(string.Empty, MemoryBudget.Parse("64MB"));
        byte[] first = File.ReadAllBytes(small.Targets[0].OutputPath!);
        RunResult given = Run("  batch_size: 16", MemoryBudget.Parse("64MB"));

        Assert.Equal(first, File.ReadAllBytes(given.Targets[0].OutputPath!));
        Assert.Contains(_events.Events, e => e.RenderMessage().Contains("(batches of 16)", StringComparison.Ordinal));
        Assert.Equal(new FileInfo(small.Targets[0].OutputPath!).Length, small.Targets[0].QuantizedBytes);
        using var session = new InferenceSession(small.Targets[0].OutputPath!);
        Assert.Equal(OnnxModelLoader.Load(small.Targets[0].OutputPath!).Graph.Outputs.Count, session.OutputMetadata.Count);
    }

    private sealed class Capture : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];

        public void Emit(LogEvent logEvent)
        {
            lock (Events)
            {
                Events.Add(logEvent);
            }
        }
    }
}
