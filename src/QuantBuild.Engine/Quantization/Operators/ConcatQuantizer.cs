using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Concat: every input quantized on its own range, one output range; QLinearConcat.</summary>
internal sealed class ConcatQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Concat" };

    public override string Becomes => "QLinearConcat";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;

    public override IReadOnlyList<int> ActivationInputs(Node node, GraphIndex index) => Enumerable.Range(0, node.Inputs.Count).ToArray();
}
