namespace QuantBuild.Engine.Results;

/// <summary>A node the quantized model keeps in fp32, and why.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="Reason">Why it was not quantized.</param>
public sealed record FloatNode(string Node, string OpType, string Reason);
