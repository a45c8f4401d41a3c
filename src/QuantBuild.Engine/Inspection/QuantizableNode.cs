namespace QuantBuild.Engine.Inspection;

/// <summary>
/// A layer (an op the quantizer registry knows to carry a weight), with what a quantizer needs to know about its
/// weight and whether the run would quantize it.
/// </summary>
/// <param name="Name">The node's name (or a generated display name when the file gives none).</param>
/// <param name="OpType">The operator.</param>
/// <param name="Weight">Name of the weight input, or null when the op has none.</param>
/// <param name="WeightShape">The weight's dimensions when it is a constant, else null.</param>
/// <param name="WeightIsConstant">True when the weight is an initializer or a Constant node's output, so it can be quantized ahead of time.</param>
/// <param name="Subgraph">Path of the enclosing subgraph (for example <c>If_3/then_branch</c>), or null in the main graph.</param>
/// <param name="WeightIsDecoded">
/// True when the weight is not stored but computed from constants only (a weight decoded from packed codes, as the
/// <c>nupes</c> pass writes): ONNX Runtime computes it once at load, and it is already quantized.
/// </param>
/// <param name="Fp32Reason">
/// Null when <c>quantbuild run</c> would quantize the layer for the default device (cpu-x64-vnni); otherwise the reason
/// it stays fp32, exactly as the run's report gives it (one registry answers both).
/// </param>
public sealed record QuantizableNode(string Name, string OpType, string? Weight, IReadOnlyList<long>? WeightShape, bool WeightIsConstant, string? Subgraph,
    bool WeightIsDecoded = false, string? Fp32Reason = null);
