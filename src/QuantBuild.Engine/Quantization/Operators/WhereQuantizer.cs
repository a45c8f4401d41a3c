using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Where(cond, x, y): x and y quantized (the boolean condition is not data); QLinearWhere.</summary>
internal sealed class WhereQuantizer : OpQuantizer
{
    private static readonly IReadOnlyList<int> Branches = new[] { 1, 2 };

    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Where" };

    public override string Becomes => "QLinearWhere";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;

    public override IReadOnlyList<int> ActivationInputs(Node node, GraphIndex index) => Branches;

    public override string? Refusal(Node node, GraphIndex index) => MaskValues.Refusal(node, index, Branches);
}
