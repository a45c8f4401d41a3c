using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// A family QuantBuild knows and deliberately leaves in float, with the reason the report gives for each node.
/// Knowing them is what lets the report say why, instead of "no rule".
/// </summary>
internal sealed class KeptInFloatQuantizer : OpQuantizer
{
    private readonly string _reason;

    public KeptInFloatQuantizer(string reason, params string[] opTypes)
    {
        _reason = reason;
        OpTypes = opTypes;
    }

    public override IReadOnlyList<string> OpTypes { get; }

    public override string Becomes => "stays fp32: " + _reason;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.None;

    public override string? Refusal(Node node, GraphIndex index) => $"{node.OpType}: {_reason}";
}
