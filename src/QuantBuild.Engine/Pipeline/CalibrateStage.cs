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
            ExactHistogramValues = CalibrationRequest.HistogramValues(config.ExactHistogram),
        };
        CalibrationResult calibrated = Calibrator.Run(plan.Model, t.Data.Calibration, request, null,
            TaggedProgress.Tagged(t.Run.Options.Progress, $"calibrate {t.Target.Name}"), t.Cancellation);
        t.Log.Information("Calibrated {Tensors} tensors on {Samples} samples (batches of {Batch}) in {Seconds:0.00}s",
            plan.Calibrated.Count, calibrated.Samples, calibrated.BatchSize, calibrated.Elapsed.TotalSeconds);
        if (calibrated.BlockedLayoutTensors > 0)
        {
            t.Log.Debug("{Target}: {Count} activations read in ONNX Runtime's blocked channel layout (no reorder to NCHW for being graph outputs)",
                t.Target.Name, calibrated.BlockedLayoutTensors);
        }
        foreach ((string tensor, string why) in calibrated.Unobserved.OrderBy(u => u.Key, StringComparer.Ordinal))
        {
            t.Log.Warning("{Target}: not calibrated, its layers stay fp32: {Reason}", t.Target.Name, why);
        }

        t.Unobserved = calibrated.Unobserved;
        var choices = new Dictionary<string, RangeChoice>(StringComparer.Ordinal);
        Dictionary<string, TensorRange> ranges = TargetEncoding.Ranges(calibrated, config, t.Target.Device, choices);
        if (choices.Count > 0)
        {
            LogChoices(t, choices);
        }

        return ranges;
    }

    // method: auto decides per tensor from measurement: the summary says how often clipping paid, -v diagnostic says where.
    private static void LogChoices(TargetContext t, IReadOnlyDictionary<string, RangeChoice> choices)
    {
        foreach ((string name, RangeChoice c) in choices.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            t.Log.Debug("{Target}: range of {Tensor}: {Method}{Percentile} [{Min}, {Max}], {Sqnr:0.0} dB (minmax {MinMaxSqnr:0.0} dB)", t.Target.Name, name,
                c.Method.ToString().ToLowerInvariant(), c.Percentile is double p ? " " + p.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty,
                c.Range.Min, c.Range.Max, c.SqnrDb, c.MinMaxSqnrDb);
        }

        var counts = choices.Values.GroupBy(c => c.Method).ToDictionary(g => g.Key, g => g.Count());
        t.Log.Information("{Target}: method auto chose minmax for {MinMax} activations, a percentile clip for {Percentile} (where it cut the tensor's quantization error by a fifth or more)",
            t.Target.Name, counts.GetValueOrDefault(RangeMethod.MinMax), counts.GetValueOrDefault(RangeMethod.Percentile));
        t.RangeChoices = choices;
    }

    // The target's share less what the weights take once paged in, capped as MemoryBudget.ActivationBytes says; the probe uses the same.
    internal static long ActivationBudget(TargetContext t) => new MemoryBudget(t.BudgetBytes).ActivationBytes(t.Loaded.Fp32Bytes);
}
