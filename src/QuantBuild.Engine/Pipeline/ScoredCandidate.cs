using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>A candidate and the gate's judgement of it (after the Score stage, and again after Fallback).</summary>
/// <param name="Candidate">The model as it will ship.</param>
/// <param name="Score">The gate's score, or null without an evaluation section (then it passes).</param>
/// <param name="GateFailure">Why the gate fails it (QB4000, or QB4101 after an unsuccessful search); null when it passes.</param>
/// <param name="Fallback">What fallback: auto did, or null when it did not run.</param>
/// <param name="FloatNodes">Every node left in fp32, with why.</param>
internal sealed record ScoredCandidate(Candidate Candidate, ModelScore? Score, QuantBuildException? GateFailure, FallbackReport? Fallback,
    IReadOnlyList<FloatNode> FloatNodes)
{
    public bool Passed => GateFailure is null;

    /// <summary>What is known about the target at this point, for its result.</summary>
    public TargetMeasurements Measurements => new()
    {
        QuantizedBytes = Candidate.Bytes,
        QuantizedNodeCount = Candidate.Encoded.QuantizedLayers.Count,
        FloatNodes = FloatNodes,
        DynamicLayers = Candidate.Encoded.QuantizedLayers.Where(l => l.Dynamic).Select(l => l.NodeName).ToList(),
        Score = Score,
        Fallback = Fallback,
    };
}
