using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Analysis;

/// <summary>Keeps <c>m</c> of float32's 23 mantissa bits, rounding to nearest even: the precision-ladder study.</summary>
public static class MantissaTruncation
{
    /// <summary>
    /// <paramref name="value"/> rounded to <paramref name="mantissaBits"/> mantissa bits (1 to 23), ties to even. A carry
    /// into the exponent is the correct rounding; NaN and ±∞ are returned unchanged.
    /// </summary>
    public static float Round(float value, int mantissaBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mantissaBits, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mantissaBits, 23);
        if (mantissaBits == 23 || !float.IsFinite(value))
        {
            return value;
        }

        int drop = 23 - mantissaBits;
        uint bits = unchecked((uint)BitConverter.SingleToInt32Bits(value));
        uint half = (1u << (drop - 1)) - 1 + ((bits >> drop) & 1);
        uint rounded = (bits + half) & ~((1u << drop) - 1);
        return BitConverter.Int32BitsToSingle(unchecked((int)rounded));
    }

    /// <summary>
    /// A copy of <paramref name="model"/> whose float initializers of rank ≥ 1 (the weights and biases) keep
    /// <paramref name="mantissaBits"/> mantissa bits; the input model is not changed.
    /// </summary>
    public static OnnxModel Apply(OnnxModel model, int mantissaBits)
    {
        OnnxModel copy = Quantization.ModelCopy.WithNewMainGraph(model);
        copy.Graph.Nodes.AddRange(model.Graph.Nodes);
        IrList<TensorValue> initializers = copy.Graph.Initializers;
        for (int i = 0; i < initializers.Count; i++)
        {
            TensorValue t = initializers[i];
            if (t.ElementType != ElementType.Float || t.Dims.Length == 0 || t.Data.Length == 0)
            {
                continue;
            }

            float[] values = MemoryMarshal.Cast<byte, float>(t.Data.Span).ToArray();
            for (int j = 0; j < values.Length; j++)
            {
                values[j] = Round(values[j], mantissaBits);
            }

            initializers.Replace(i, TensorValue.FromFloats(t.Name!, values, t.Dims));
        }

        return copy;
    }
}
