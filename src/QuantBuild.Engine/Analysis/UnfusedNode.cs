namespace QuantBuild.Engine.Analysis;

/// <summary>A node of ORT's optimized quantized graph that ran in float where an integer kernel was expected.</summary>
/// <param name="Node">The node's name in the optimized graph.</param>
/// <param name="OpType">Its op type.</param>
/// <param name="DequantizedInput">The dequantized tensor it reads (a layer's weight, or the activation of a round trip).</param>
/// <param name="Reason">Why it counts as unfused.</param>
public sealed record UnfusedNode(string Node, string OpType, string DequantizedInput, string Reason = "a quantized layer ran in float on its dequantized weight");
