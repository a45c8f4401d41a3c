using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// MatMul in both of its real-model forms. With a constant 2-D B (a projection, x·W) it is a linear layer: int8
/// weights per output column, or 4-bit blocks for MatMulNBits. With two activations (attention's Q·Kᵀ and
/// softmax·V, or a batched constant) both inputs are quantized as activations: QLinearMatMul, or
/// MatMulIntegerToFloat when nothing integer reads the output.
/// </summary>
internal sealed class MatMulQuantizer : OpQuantizer
{
    private static readonly IReadOnlyList<int> BothInputs = new[] { 0, 1 };

    public override IReadOnlyList<string> OpTypes { get; } = new[] { "MatMul" };

    public override string Becomes => "QLinearMatMul / MatMulIntegerToFloat (constant B: int8 per column, or MatMulNBits at 4 bits; two activations: both per tensor)";

    public override bool FusesWithoutOutputQuantize => true;

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) =>
        HasConstantWeight(node, index) ? OpRole.Linear : OpRole.Requantizing;

    public override IReadOnlyList<int> ActivationInputs(Node node, GraphIndex index) =>
        HasConstantWeight(node, index) ? FirstInput : BothInputs;

    public override WeightInput? Weight(Node node, GraphIndex index) =>
        HasConstantWeight(node, index) ? new WeightInput(1, 1, null) : null;

    public override string? Refusal(Node node, GraphIndex index)
    {
        for (int i = 0; i < Math.Min(2, node.Inputs.Count); i++)
        {
            if (index.Constant(node.Inputs[i]) is { } c && c.ElementType != ElementType.Float)
            {
                return $"input '{node.Inputs[i]}' is a {ElementTypeInfo.OnnxName(c.ElementType)} constant, not float32";
            }
        }

        return null;
    }

    public override string? DynamicRefusal(Node node, GraphIndex index) =>
        HasConstantWeight(node, index) && !index.IsOverridableInitializer(node.Inputs[1])
            ? null
            : "B is not a constant 2-D float32 weight (two activations, as in attention, have no run-time-quantized kernel)";

    // A 2-D float B known before run time; a batched constant B is quantized like an activation instead.
    private static bool HasConstantWeight(Node node, GraphIndex index) =>
        node.Inputs.Count > 1 && index.Constant(node.Inputs[1]) is { ElementType: ElementType.Float } w && w.Dims.Length == 2;
}
