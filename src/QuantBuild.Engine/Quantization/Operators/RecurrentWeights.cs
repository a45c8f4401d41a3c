using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
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

    /// <summary>
    /// W or R (<paramref name="name"/>, [directions, rows, columns]) of <paramref name="node"/> as the recurrent writers
    /// store it: int8 codes in the weight's layout with one symmetric scale per gate row and direction (<see
    /// cref="QuantizedWeight.Scales"/> holds directions·rows of them). Round to nearest, or the recipe pass's encoding
    /// verbatim when it has that form: a setting is honoured or refused, never silently replaced.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">
    /// QB3003 for a pass's encoding that does not fit the weight, QB3009 for one int8 codes with a scale per gate row cannot hold.
    /// </exception>
    public static QuantizedWeight Rows(Node node, string name, TensorValue w, EncodeOptions options)
    {
        long rows = w.Dims[0] * w.Dims[1], columns = w.Dims[2];
        if (!options.WeightOverrides.TryGetValue(name, out WeightEncoding? chosen))
        {
            return WeightQuantizer.RoundToNearest8(w.AsReadOnlySpan<float>(), new[] { rows, columns }, 0, 127, null);
        }

        string origin = chosen.Origin ?? "a recipe pass";
        QuantBuildException Refused(string problem) =>
            QuantizationErrors.OverrideNotPerGateRow(name, node.DisplayName, node.OpType, origin, problem, options.ModelPath);
        if (chosen.Type != ElementType.Int8)
        {
            throw Refused($"its codes are {ElementTypeInfo.OnnxName(chosen.Type)}, not int8");
        }

        QuantizedWeight q = WeightQuantizer.FromEncoding(name, w.AsReadOnlySpan<float>(), w.Dims, chosen);
        var scales = new float[rows];
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < columns; c++)
            {
                int at = WeightQuantizer.ScaleIndex(r * columns + c, w.Dims, q.Axis, q.BlockSize);
                if (q.ZeroPoints[at] != 0)
                {
                    throw Refused($"its zero point {(sbyte)q.ZeroPoints[at]} is not 0 (the codes are expanded by a Mul alone)");
                }

                if (c == 0)
                {
                    scales[r] = q.Scales[at];
                }
                else if (q.Scales[at] != scales[r])
                {
                    throw Refused($"its scales change along the input axis within gate row {r % w.Dims[1]} of direction {r / w.Dims[1]} ({scales[r]} and {q.Scales[at]})");
                }
            }
        }

        return q with { Dims = new[] { rows, columns }, Scales = scales, ScaleDims = new[] { rows }, ZeroPoints = new byte[rows], Axis = 0, BlockSize = null };
    }
}
