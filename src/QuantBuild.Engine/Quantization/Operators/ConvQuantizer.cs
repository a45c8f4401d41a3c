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

    public override string? Refusal(Node node, GraphIndex index) =>
        node.Inputs.Count > 1 && index.Constant(node.Inputs[1]) is { } w && w.Dims.Length < 3
            ? $"weight '{node.Inputs[1]}' has rank {w.Dims.Length}; Conv weights are [M, C/group, k...]"
            : null;
}
