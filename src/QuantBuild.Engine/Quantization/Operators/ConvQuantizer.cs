using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Conv: int8 per-output-channel weights [M, C/group, k...], int32 bias, QLinearConv.</summary>
internal sealed class ConvQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Conv" };

    public override string Becomes => "QLinearConv (int8 weights per output channel, int32 bias)";

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Linear;

    public override WeightInput? Weight(Node node, GraphIndex index) => new(1, 0, 2);

    // Measured (docs/benchmarks.md, dynamic activations): DynamicQuantizeLinear → ConvInteger → Cast → Mul runs a 64→64 3×3
    // conv at 5.1× fp32 with int8 weights and 0.94× with uint8, against 0.54× for static QLinearConv; ORT fuses none of it.
    public override string? DynamicRefusal(Node node, GraphIndex index) =>
        "Conv stays static: ONNX Runtime's run-time-quantized ConvInteger is not faster than fp32 (QLinearConv with a calibrated range is)";

    public override string? Refusal(Node node, GraphIndex index) =>
        node.Inputs.Count > 1 && index.Constant(node.Inputs[1]) is { } w && w.Dims.Length < 3
            ? $"weight '{node.Inputs[1]}' has rank {w.Dims.Length}; Conv weights are [M, C/group, k...]"
            : null;
}
