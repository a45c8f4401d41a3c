using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

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

    public override string? Refusal(Node node, GraphIndex index)
    {
        for (int i = 1; i <= 2; i++)
        {
            string what = i == 1 ? "input weight W" : "recurrent weight R";
            if (node.Inputs.Count <= i || node.Inputs[i].Length == 0)
            {
                return $"{what} is missing";
            }

            string name = node.Inputs[i];
            if (index.IsOverridableInitializer(name))
            {
                return $"{what} '{name}' is also a graph input, so a caller may replace it at run time";
            }

            if (index.Constant(name) is not { } w)
            {
                return $"{what} '{name}' is not a constant (it is computed at run time)";
            }

            if (w.ElementType != ElementType.Float || w.Dims.Length != 3)
            {
                return $"{what} '{name}' is not a float32 [directions, 4·hidden, size] tensor";
            }
        }

        return node.FindAttribute("layout")?.Int is 1
            ? "layout = 1 (batch-major) has no DynamicQuantizeLSTM kernel"
            : null;
    }
}
