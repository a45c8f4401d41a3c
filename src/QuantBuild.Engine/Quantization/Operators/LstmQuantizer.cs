using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// LSTM: its input and recurrent weights become int8 per gate row and the node becomes com.microsoft
/// DynamicQuantizeLSTM, which quantizes each time step's activations itself. One static range cannot cover a
/// recurrent state, and this needs none, so it applies without calibration.
/// </summary>
internal sealed class LstmQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "LSTM" };

    public override string Becomes => "DynamicQuantizeLSTM (com.microsoft): int8 W and R per gate row, activations quantized at run time";

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Dynamic;

    // A layer for the fallback and the analyzer: kept alone, the LSTM goes back to fp32.
    public override WeightInput? Weight(Node node, GraphIndex index) => RecurrentWeights.W;

    public override string? Refusal(Node node, GraphIndex index) =>
        RecurrentWeights.Refusal(node, index, gates: 4)
        ?? (node.FindAttribute("layout")?.Int is 1 ? "layout = 1 (batch-major) has no DynamicQuantizeLSTM kernel" : null);
}
