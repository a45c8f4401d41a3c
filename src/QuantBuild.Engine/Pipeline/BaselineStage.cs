using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Scores the fp32 model, as given, on the gate's data once per run; every target's score compares with its kept outputs.</summary>
internal static class BaselineStage
{
    public const string Name = "baseline";

    /// <summary>The baseline, or null when the config has no evaluation (then no stage is timed).</summary>
    public static EvaluationResult? Run(ValidatedRun run, LoadedRun loaded, ILogger log, CancellationToken cancellation)
    {
        RunData data = loaded.Data;
        if (data.Metric is null || data.Evaluation is null)
        {
            return null;
        }

        log.Information("Evaluating fp32 on {Samples} samples", data.Evaluation.SampleCount);
        EvaluationResult baseline = Evaluator.Run(ModelSource.Model(loaded.Model), loaded.Model, data.Evaluation, data.Labels, data.Metric, data.ScoredOutput!,
            run.Config.Evaluation!.BatchSize, reference: null, keepOutputs: true, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All },
            TaggedProgress.Tagged(run.Options.Progress, "evaluate fp32"), cancellation);
        log.Information("fp32 {Metric} = {Value:0.00}", data.Metric.Name, baseline.Value);
        return baseline;
    }
}
