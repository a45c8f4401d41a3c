namespace QuantBuild.Engine.Evaluation;

/// <summary>One model scored against the fp32 baseline on the gate's data, and the gate's verdict on it.</summary>
/// <param name="Evaluation">The metric, agreement and output SQNR the model reached.</param>
/// <param name="Verdict">The gate's verdict (drop, floor, message).</param>
public sealed record ModelScore(EvaluationResult Evaluation, GateVerdict Verdict)
{
    /// <summary>True when the gate passes.</summary>
    public bool Passed => Verdict.Passed;
}
