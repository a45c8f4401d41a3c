using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Activation ranges for the tensors the plan observes; no forward pass at all when it needs none (weight-only
/// formats). The batch size is the yaml's when given, else derived from the target's share of the memory budget.
/// </summary>
internal static class CalibrateStage
{
    public const string Name = "calibrate";

    public static IReadOnlyDictionary<string, TensorRange> Run(TargetContext t, TargetPlan plan)
    {
        if (plan.Calibrated.Count == 0)
        {
            t.Log.Information("{Target}: nothing needs activation ranges; calibration skipped", t.Target.Name);
            return TargetEncoding.Ranges(CalibrationResult.Empty, t.Config.Calibration, t.Target.Device);
        }

        CalibrationConfig config = t.Config.Calibration;
        var request = new CalibrationRequest
        {
            Tensors = plan.Calibrated,
            BatchSize = config.BatchSize,
            MaxSamples = config.Samples,
            ActivationBudgetBytes = ActivationBudget(t),
            BatchSizeFromBudget = !config.BatchSizeGiven,
            // min/max is all minmax ranges read; the histogram is most of what observing costs
            Bins = config.Method == CalibrationMethod.MinMax ? 0 : CalibrationRequest.DefaultBins,
        };
        CalibrationResult calibrated = Calibrator.Run(plan.Model, t.Data.Calibration, request, null,
            TaggedProgress.Tagged(t.Run.Options.Progress, $"calibrate {t.Target.Name}"), t.Cancellation);
        t.Log.Information("Calibrated {Tensors} tensors on {Samples} samples (batches of {Batch}) in {Seconds:0.00}s",
            plan.Calibrated.Count, calibrated.Samples, calibrated.BatchSize, calibrated.Elapsed.TotalSeconds);
        return TargetEncoding.Ranges(calibrated, config, t.Target.Device);
    }

    // The target's share less what the weights take once paged in, capped as MemoryBudget.ActivationBytes says; the probe uses the same.
    internal static long ActivationBudget(TargetContext t) => new MemoryBudget(t.BudgetBytes).ActivationBytes(t.Loaded.Fp32Bytes);
}
