using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// Ops ONNX Runtime replaces by a com.microsoft QLinear kernel with its own output scale: pooling, LeakyRelu,
/// Sigmoid and Softmax (QLinearSoftmax reads the whole row in 8 bits, so attention probabilities stay integer).
/// </summary>
internal sealed class UnaryQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "AveragePool", "GlobalAveragePool", "LeakyRelu", "Sigmoid", "Softmax" };

    public override string Becomes => "QLinearAveragePool / QLinearGlobalAveragePool / QLinearLeakyRelu / QLinearSigmoid / QLinearSoftmax";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;
}
