using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Scores the candidate file exactly as it ships against the fp32 baseline and applies the gate. The
/// <see cref="GateScorer"/> it builds per target is the one the Fallback stage hands to its search, so every trial is
/// measured as the shipped model is.
/// </summary>
internal static class ScoreStage
{
    public const string Name = "evaluate";

    /// <summary>The target's scorer: its gate, its device's session settings, on the run's gate data; null without evaluation.</summary>
    public static GateScorer? ScorerFor(TargetContext t)
    {
        RunData data = t.Data;
        if (data.Metric is null || data.Evaluation is null || t.Baseline is null)
        {
            return null;
        }

        return new GateScorer(data.Evaluation, data.Labels, data.Metric, data.ScoredOutput!, t.Config.Evaluation!.BatchSize, t.Baseline,
            TargetEncoding.Deploy(t.Target.Device), t.Target.Gate ?? t.Config.Gate, TaggedProgress.Tagged(t.Run.Options.Progress, $"evaluate {t.Target.Name}"),
            t.Cancellation);
    }

    public static ScoredCandidate Run(TargetContext t, Candidate candidate, GateScorer? scorer)
    {
        var floatNodes = candidate.Encoded.UnquantizedNodes.Select(n => new FloatNode(n.NodeName, n.OpType, n.Reason)).ToList();
        if (scorer is null)
        {
            return new ScoredCandidate(candidate, null, null, null, floatNodes);
        }

        // The gate scores these exact bytes: what is evaluated is what is written.
        ModelScore score = scorer.Score(ModelSource.File(candidate.Path), candidate.Encoded.Model);
        t.Log.Information("{Target}: {Message}", t.Target.Name, score.Verdict.Message);
        return new ScoredCandidate(candidate, score, score.Passed ? null : GateError(t.Config, t.Target, score.Verdict), null, floatNodes);
    }

    /// <summary>QB4000 at the gate setting that failed, so an IDE jumps to the 'min' floor, not to 'max_drop' above it.</summary>
    public static QuantBuildException GateError(QuantizeConfig config, TargetConfig target, GateVerdict verdict)
    {
        GateConfig? gate = target.Gate ?? config.Gate;
        SourceLocation where = (verdict.FailedSetting == "min" ? gate?.MinLocation : verdict.FailedSetting == "max_drop" ? gate?.MaxDropLocation : null)
            ?? gate?.Location ?? target.Location;
        return new QuantBuildException("QB4000", $"Target '{target.Name}' failed its accuracy gate: {verdict.Message}.",
            config.Calibration.Method == CalibrationMethod.Auto
                ? "add 'fallback: auto' to the target (trials decide which layers stay fp32), or loosen gate.max_drop"
                : "add 'fallback: auto' to the target (trials decide which layers stay fp32), remove calibration.method to let 'auto' pick each activation's range from measurement, or loosen gate.max_drop",
            config.ConfigPath, where.Line, where.Column);
    }
}
