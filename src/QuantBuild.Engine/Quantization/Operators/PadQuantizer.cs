using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Pad: quantized between integer neighbours on its own output range (ORT pads 8-bit data directly).</summary>
internal sealed class PadQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Pad" };

    public override string Becomes => "Pad on 8-bit data";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;
}
