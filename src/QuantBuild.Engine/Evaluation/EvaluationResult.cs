using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Evaluation;

/// <summary>One model scored on the evaluation data.</summary>
/// <param name="Value">The metric's value.</param>
/// <param name="Agreement">Percent of samples whose argmax matches fp32's (100 for fp32 itself).</param>
/// <param name="Sqnr">Output SQNR in dB against fp32 (+∞ for fp32 itself).</param>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="Elapsed">Wall time of the stage.</param>
/// <param name="Outputs">The scored output per batch, kept only when asked (the fp32 baseline, as the reference for every target).</param>
public sealed record EvaluationResult(double Value, double Agreement, double Sqnr, long Samples, TimeSpan Elapsed, IReadOnlyList<DenseTensor>? Outputs);
