using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using Serilog;

namespace QuantBuild.Engine.Fallback;

/// <summary>
/// <c>fallback: auto</c> for the run's Plan and Fallback stages: what calibration must observe so any layer can change
/// precision, and, after the gate scored the recipe as written, the search and the model it chose (scored by the same
/// <see cref="GateScorer"/> on the same data, so what is written is what was evaluated).
/// </summary>
public static class FallbackRunner
{
    /// <summary>
    /// The activations to calibrate: the recipe's plan alone without fallback; with it, also every plan a kept layer
    /// can lead to (8-bit fallback of 4-bit layers, each layer left out, each layer alone).
    /// </summary>
    public static IReadOnlyList<string> Plan(OnnxModel model, EncodeOptions options, TargetConfig target) =>
        Plan(model, options, target, QdqEncoder.Plan(model, options));

    /// <summary>The same, given the recipe's own plan (<see cref="QdqEncoder.Plan"/> of <paramref name="options"/>), which is not planned again.</summary>
    public static IReadOnlyList<string> Plan(OnnxModel model, EncodeOptions options, TargetConfig target, IReadOnlyList<string> plan)
    {
        if (target.Fallback is null)
        {
            return plan;
        }

        var all = new List<string>(TargetEncoding.PlanWithEightBitFallback(model, options));
        var seen = new HashSet<string>(all, StringComparer.Ordinal);
        var names = Branches.Nodes(model)
            .Where(n => !string.IsNullOrEmpty(n.Node.Name) && new GraphOps(options.Operators, n.Scope).RoleOf(n.Node) == OpRole.Linear)
            .Select(n => n.Node.Name!).ToList();
        foreach (string name in names)
        {
            var without = new HashSet<string>(options.ExcludedNodeNames, StringComparer.Ordinal) { name };
            var only = new HashSet<string>(options.ExcludedNodeNames.Concat(names.Where(n => n != name)), StringComparer.Ordinal);
            all.AddRange(QdqEncoder.Plan(model, options with { ExcludedNodeNames = without }).Where(seen.Add));
            all.AddRange(QdqEncoder.Plan(model, options with { ExcludedNodeNames = only }).Where(seen.Add));
        }

        return all;
    }

    /// <summary>The ranges of exactly the tensors <paramref name="options"/>' plan asks for: what `run` gives the encoder.</summary>
    public static Dictionary<string, TensorRange> Restrict(IReadOnlyDictionary<string, TensorRange> ranges, OnnxModel model, EncodeOptions options) =>
        Restrict(ranges, QdqEncoder.Plan(model, options));

    /// <summary>The ranges of exactly the tensors of <paramref name="plan"/>.</summary>
    public static Dictionary<string, TensorRange> Restrict(IReadOnlyDictionary<string, TensorRange> ranges, IReadOnlyList<string> plan)
    {
        var restricted = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach (string tensor in plan)
        {
            if (ranges.TryGetValue(tensor, out TensorRange? r))
            {
                restricted[tensor] = r;
            }
        }

        return restricted;
    }

    /// <summary>True when the target asks for fallback and the recipe's result gives it something to do.</summary>
    public static bool Wanted(TargetConfig target, GateVerdict? verdict) =>
        target.Fallback is { } f && verdict is not null && (!verdict.Passed || f.MaxBitsPerWeight is not null || f.MaxBytes is not null);

    /// <summary>Runs the search and returns the chosen model, its score and the search's report.</summary>
    /// <param name="target">The target.</param>
    /// <param name="configPath">The yaml, for error locations.</param>
    /// <param name="model">The model the encoder reads (after recipe passes).</param>
    /// <param name="ranges">Calibrated ranges (from <see cref="Plan"/>).</param>
    /// <param name="options">The recipe's encoder options.</param>
    /// <param name="encoded">The recipe's encoded model.</param>
    /// <param name="encodedBytes">Its size as written.</param>
    /// <param name="scored">The gate's score of it.</param>
    /// <param name="scorer">Scores each trial with the gate on the gate's data (file-backed weights referenced, not copied).</param>
    /// <param name="log">The target's log.</param>
    /// <exception cref="QuantBuildException">QB4102 when the size target is below what the recipe itself reaches.</exception>
    public static FallbackOutcome Run(TargetConfig target, string configPath, OnnxModel model, IReadOnlyDictionary<string, TensorRange> ranges,
        EncodeOptions options, EncodeResult encoded, long encodedBytes, ModelScore scored, GateScorer scorer, ILogger log)
    {
        FallbackConfig config = target.Fallback!;
        var results = new Dictionary<string, ModelScore>(StringComparer.Ordinal);
        TrialResult Trial(EncodeOptions o)
        {
            EncodeResult e = QdqEncoder.Encode(model, Restrict(ranges, model, o), o);
            long size = OnnxModelSaver.SerializedSize(e.Model);
            ModelScore s = scorer.Score(ModelSource.Model(e.Model), e.Model);
            results[Key(o)] = s;
            // A trial leaves its encoded model, its session's native memory and every batch's output behind: returned
            // now, one trial's worth is resident at a time instead of whatever the GC's large-object budget allows
            // (on the OCR recognizer, trials of 300 lines climbed to 2.26 GB before a collection).
            Calibration.Calibrator.ReleaseGarbage();
            return ToTrial(s, size);
        }

        var search = new FallbackSearch(model, options, encoded.QuantizedLayers, config, Trial);
        if (search.SizeUnreachable(encodedBytes))
        {
            throw new QuantBuildException(AnalysisErrors.SizeUnreachable,
                $"Target '{target.Name}': the size target cannot be met; the recipe itself is {search.Bits(new HashSet<string>()):0.##} bits per weight and {encodedBytes} bytes.",
                "raise size.max_bits_per_weight / size.max_bytes, or use weights: {bits: 4} for MatMul weights", configPath, config.Location.Line, config.Location.Column);
        }

        TrialResult initial = ToTrial(scored, encodedBytes);
        FallbackReport report;
        EncodeOptions chosen;
        var segments = new SegmentSearch(model, options, encoded.QuantizedLayers, config, Trial);
        if (BySegments(config, options, segments.NodeCount))
        {
            log.Information("{Target}: fallback search over {Nodes} quantized nodes by segments (budget {Trials} trials, {Seconds} s)", target.Name, segments.NodeCount, config.MaxTrials, config.MaxSeconds);
            (report, chosen, _) = segments.Run(initial);
        }
        else
        {
            log.Information("{Target}: fallback search over {Layers} layers (budget {Trials} trials, {Seconds} s)", target.Name, search.LayerCount, config.MaxTrials, config.MaxSeconds);
            (report, chosen, _) = search.Run(initial);
        }

        if (!report.Passed && search.HasEightBitLayers && report.Trials < config.MaxTrials && report.Seconds < config.MaxSeconds)
        {
            // 8-bit (a 4-bit recipe) or dynamic (a static one) was not enough: search again with fp32 as the higher precision, on what budget is left.
            var rest = config with { MaxTrials = config.MaxTrials - report.Trials, MaxSeconds = config.MaxSeconds - report.Seconds };
            var second = new FallbackSearch(model, options, encoded.QuantizedLayers, rest, Trial, toFp32: true);
            (FallbackReport escalated, EncodeOptions chosen2, _) = second.Run(initial);
            report = escalated with
            {
                Trials = report.Trials + escalated.Trials,
                MaxTrials = config.MaxTrials,
                Seconds = report.Seconds + escalated.Seconds,
                Steps = report.Steps.Concat(escalated.Steps.Select(s => s with { Trial = s.Trial == 0 ? 0 : s.Trial + report.Trials })).ToList(),
                Summary = $"With {search.Intermediate} as the higher precision: {report.Summary} Escalated to fp32: {escalated.Summary}",
            };
            chosen = chosen2;
        }

        log.Information("{Target}: {Summary}", target.Name, report.Summary);

        EncodeResult final = report.Kept.Count == 0 && results.Count == 0 ? encoded : QdqEncoder.Encode(model, Restrict(ranges, model, chosen), chosen);
        ModelScore score = report.Kept.Count == 0 ? scored
            : results.TryGetValue(Key(chosen), out ModelScore? known) ? known
            : scorer.Score(ModelSource.Model(final.Model), final.Model);
        if (report.Passed)
        {
            return new FallbackOutcome(final, score, report, null);
        }

        string why = report.BudgetExhausted ? "used its whole budget" : "found no combination";
        var failure = new QuantBuildException(AnalysisErrors.FallbackExhausted,
            $"Target '{target.Name}' failed its accuracy gate: fallback: auto {why} ({report.Trials} trials) without a model that passes{(config.MaxBitsPerWeight is not null || config.MaxBytes is not null ? " within the size target" : string.Empty)}; best attempt {score.Verdict.Message}.",
            "raise budget.trials / budget.seconds or the size target, loosen the gate, or see `quantbuild analyze` for why the layers lose accuracy",
            configPath, config.Location.Line, config.Location.Column);
        return new FallbackOutcome(final, score, report, failure);
    }

    /// <summary>
    /// Segments when there are more quantized nodes than segments and measuring each alone would take more than half
    /// the trial budget, for an 8-bit recipe without a size target (the per-layer search weighs bits per weight;
    /// segments only trade int8 for fp32).
    /// </summary>
    internal static bool BySegments(FallbackConfig config, EncodeOptions options, int quantizedNodes) =>
        config.MaxBitsPerWeight is null && config.MaxBytes is null && options.WeightBits == 8
        && quantizedNodes > Math.Max(SegmentSearch.MaxSegments, config.MaxTrials / 2);

    private static TrialResult ToTrial(ModelScore s, long bytes) =>
        new(s.Evaluation.Value, s.Verdict.Drop, s.Evaluation.Sqnr, s.Evaluation.Agreement, s.Passed, bytes);
    private static string Key(EncodeOptions o) =>
        string.Join("|", o.ExcludedNodeNames.Order(StringComparer.Ordinal)) + "#" + string.Join("|", o.WeightOverrides.Keys.Order(StringComparer.Ordinal))
        + "#" + string.Join("|", o.DynamicNodeNames.Order(StringComparer.Ordinal));
}
