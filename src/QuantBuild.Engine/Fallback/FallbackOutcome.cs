using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Fallback;

/// <summary>What <c>fallback: auto</c> chose: the model, its score by the gate, the search's report, and why it still fails (if it does).</summary>
/// <param name="Encoded">The chosen model (the recipe's own when nothing was kept in higher precision).</param>
/// <param name="Score">The gate's score of <paramref name="Encoded"/>.</param>
/// <param name="Report">Every trial, and the layers kept.</param>
/// <param name="Failure">QB4101 when no model passed within the budget or size target; null when one did.</param>
public sealed record FallbackOutcome(EncodeResult Encoded, ModelScore Score, FallbackReport Report, QuantBuildException? Failure);
