using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Ships the candidate: to the target's output path when the gate passed, else to rejected/ for inspection, with its
/// manifest. The order makes a model and its manifest appear together: the side data file first (the model never
/// points at missing data), the model copied to a temp file beside its place, then the manifest renamed into place,
/// and the model's rename last. A kill at any point leaves no model without its manifest (an older pair that is being
/// replaced may briefly have the new manifest beside it; the manifest names the model's SHA-256 to tell).
/// </summary>
internal static class PackageStage
{
    public const string Name = "write";

    public static TargetResult Run(TargetContext t, ScoredCandidate scored, IReadOnlyList<LayerError> layers, KernelGateResult kernels, StageClock clock,
        ManifestSource source)
    {
        bool passed = scored.Passed && kernels.Ok;
        string written = passed ? t.OutputPath : Path.Combine(t.Run.OutputDirectory, "rejected", Path.GetFileName(t.OutputPath));
        string data = scored.Candidate.Path + ".data";
        if (File.Exists(data))
        {
            AtomicFile.CopyIfChanged(data, written + ".data");
        }

        using StagedFile? model = AtomicFile.StageCopy(scored.Candidate.Path, written);
        clock.Lap(Name);

        TargetMeasurements measured = scored.Measurements with { Layers = layers, Kernels = kernels.Kernels, ActivationRanges = ActivationRanges(t) };
        TargetResult result = passed
            ? TargetResult.Passed(t.Target, t.Loaded.Fp32Bytes, measured, written, clock.Stages.ToList())
            : TargetResult.GateFailed(t.Target, t.Loaded.Fp32Bytes, measured, written, kernels.Failure ?? scored.GateFailure!, clock.Stages.ToList());
        AtomicFile.WriteTextIfChanged(result.ManifestPath!, ManifestWriter.Render(source, t.Target, result, scored.Candidate.Written, t.Config.Calibration,
            t.Plugins?.Plugins));
        model?.Commit();
        return result;
    }

    private static List<ActivationRange> ActivationRanges(TargetContext t) => t.RangeChoices.OrderBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => new ActivationRange(c.Key, c.Value.Method.ToString().ToLowerInvariant(), c.Value.Percentile, c.Value.Range.Min, c.Value.Range.Max,
            Db(c.Value.SqnrDb), Db(c.Value.MinMaxSqnrDb)))
        .ToList();

    private static double? Db(double db) => double.IsFinite(db) ? Math.Round(db, 2) : null;
}
