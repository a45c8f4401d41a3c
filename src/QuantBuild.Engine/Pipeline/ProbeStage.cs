using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Each quantized layer's output SQNR against fp32's on a few samples: the report's per-layer chart.</summary>
internal static class ProbeStage
{
    public const string Name = "layers";

    public static IReadOnlyList<LayerError> Run(TargetContext t, TargetPlan plan, ScoredCandidate scored) =>
        LayerErrorProbe.Measure(plan.Model, scored.Candidate.Encoded.Model, scored.Candidate.Encoded.QuantizedLayers, t.Data.Evaluation ?? t.Data.Calibration,
            t.Run.Options.LayerProbeSamples, TargetEncoding.Deploy(t.Target.Device), CalibrateStage.ActivationBudget(t));
}
