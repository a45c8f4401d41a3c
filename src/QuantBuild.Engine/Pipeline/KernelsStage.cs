using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Times the candidate against fp32 on this machine (only for a model the gate passed: a rejected one is not deployed).</summary>
internal static class KernelsStage
{
    public const string Name = "kernels";

    // Two timings at once would each measure the other: targets running in parallel take turns here.
    private static readonly Lock OneTimingAtATime = new();

    public static KernelGateResult Run(TargetContext t, ScoredCandidate scored)
    {
        lock (OneTimingAtATime)
        {
            return KernelGate.Check(t.Target, t.Config.ConfigPath, t.Model, ModelSource.File(scored.Candidate.Path), t.Data.Evaluation ?? t.Data.Calibration,
                t.Config.Evaluation?.BatchSize ?? t.Config.Calibration.BatchSize, scored.Candidate.Encoded.QuantizedLayers.Count(l => !l.StoredOnly), t.Log, t.BudgetBytes);
        }
    }
}
