namespace QuantBuild.Engine.Quantization;

/// <summary>A node the encoder left in fp32, and why.</summary>
/// <param name="NodeName">The node's display name (its name, else op type and first output).</param>
/// <param name="OpType">The node's op type.</param>
/// <param name="Reason">One line for the report, for example <c>excluded by op type in quantize.yaml</c>.</param>
public sealed record UnquantizedNode(string NodeName, string OpType, string Reason);
