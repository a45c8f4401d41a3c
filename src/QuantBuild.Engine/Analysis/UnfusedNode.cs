namespace QuantBuild.Engine.Analysis;

/// <summary>A float Conv/MatMul/Gemm in ORT's optimized graph whose weight still comes from a DequantizeLinear: no integer kernel ran it.</summary>
/// <param name="Node">The node's name in the optimized graph.</param>
/// <param name="OpType">Its op type.</param>
/// <param name="DequantizedInput">The dequantized weight it reads.</param>
public sealed record UnfusedNode(string Node, string OpType, string DequantizedInput);
