using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>What LSTM, GRU and RNN need of their input weight W and recurrent weight R to store them int8.</summary>
internal static class RecurrentWeights
{
    /// <summary>Where the analyzer and the fallback find the layer's weight: W, one output row per gate and direction.</summary>
    public static readonly WeightInput W = new(1, 1, null);

    /// <summary>True for LSTM, GRU and RNN, whose W (input 1) and R (input 2) are both stored at the layer's width.</summary>
    public static bool IsRecurrent(Node node) => node.IsDefaultDomain && node.OpType is "LSTM" or "GRU" or "RNN";

    /// <summary>Why W or R cannot be stored int8 (missing, replaceable, computed, not [directions, gates·hidden, size] fp32), or null.</summary>
    public static string? Refusal(Node node, GraphIndex index, int gates)
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
                return $"{what} '{name}' is not a float32 [directions, {(gates == 1 ? "hidden" : gates + "·hidden")}, size] tensor";
            }
        }

        return null;
    }
}
