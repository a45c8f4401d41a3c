using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Add and Mul: both operands quantized (a constant operand stored already quantized); QLinearAdd/QLinearMul.</summary>
internal sealed class BinaryQuantizer : OpQuantizer
{
    private static readonly IReadOnlyList<int> BothInputs = new[] { 0, 1 };

    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Add", "Mul" };

    public override string Becomes => "QLinearAdd / QLinearMul";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;

    public override IReadOnlyList<int> ActivationInputs(Node node, GraphIndex index) => BothInputs;

    public override string? Refusal(Node node, GraphIndex index) => MaskValues.Refusal(node, index, BothInputs);
}
