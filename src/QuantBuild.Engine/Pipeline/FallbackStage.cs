using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// <c>fallback: auto</c>: when the recipe's model fails its gate (or misses a size target), searches for layers to keep
/// in higher precision, scoring every trial with the Score stage's <see cref="GateScorer"/>, and saves the model it chose
/// as the new candidate. Skipped (the input returned) when the target does not ask for it or has nothing to gate.
/// </summary>
internal static class FallbackStage
{
    public const string Name = "fallback";

    public static bool Wanted(TargetContext t, ScoredCandidate scored) => FallbackRunner.Wanted(t.Target, scored.Score?.Verdict);

    public static ScoredCandidate Run(TargetContext t, TargetPlan plan, IReadOnlyDictionary<string, TensorRange> ranges, ScoredCandidate scored, GateScorer scorer)
    {
        FallbackOutcome outcome = FallbackRunner.Run(t.Target, t.Config.ConfigPath, plan.Model, ranges, t.EncodeOptions(plan), scored.Candidate.Encoded,
            scored.Candidate.Bytes, scored.Score!, scorer, t.Log);
        Candidate chosen = Candidate.Save(outcome.Encoded, scored.Candidate.Path, t.Loaded.Workspace.PathFor(t.Target.Name, "fallback.weights"));
        var floatNodes = outcome.Encoded.UnquantizedNodes.Select(n => new FloatNode(n.NodeName, n.OpType,
            outcome.Report.KeptReasons.TryGetValue(n.NodeName, out string? why) ? $"kept in fp32 by fallback: auto: {why}"
            : outcome.Report.Kept.Contains(n.NodeName) ? "kept in fp32 by fallback: auto (see the fallback section)" : n.Reason)).ToList();
        return new ScoredCandidate(chosen, outcome.Score,
            outcome.Failure ?? (outcome.Score.Passed ? null : ScoreStage.GateError(t.Config, t.Target, outcome.Score.Verdict)), outcome.Report, floatNodes);
    }
}
