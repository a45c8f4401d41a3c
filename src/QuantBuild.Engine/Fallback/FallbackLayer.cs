namespace QuantBuild.Engine.Fallback;

/// <summary>A quantizable layer as the fallback search saw it.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">Its op type.</param>
/// <param name="Weights">Weight elements.</param>
/// <param name="Recipe">Its precision in the recipe (8-bit, 4-bit).</param>
/// <param name="Higher">The precision it falls back to (fp32, or 8-bit in a 4-bit recipe).</param>
/// <param name="Gain">How much of the metric keeping it in <paramref name="Higher"/> alone wins back (drop before − drop after); null when the budget ran out before it was measured.</param>
/// <param name="Final">Its precision in the chosen model.</param>
public sealed record FallbackLayer(string Node, string OpType, long Weights, string Recipe, string Higher, double? Gain, string Final);
