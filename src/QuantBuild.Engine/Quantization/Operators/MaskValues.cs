using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// Attention masks are written as huge constants (−1e4, −1e9, −∞) added to the scores. An 8-bit grid that reaches
/// them has steps far wider than every real score, so a tensor carrying them cannot be quantized.
/// </summary>
internal static class MaskValues
{
    /// <summary>The magnitude from which a value is taken for a mask, not data.</summary>
    public const float Magnitude = 1e4f;

    /// <summary>The first mask value in the constant <paramref name="tensor"/>, or null when it holds none.</summary>
    public static float? In(GraphIndex index, string tensor)
    {
        if (index.Constant(tensor) is not { ElementType: ElementType.Float } constant)
        {
            return null;
        }

        foreach (float v in constant.AsReadOnlySpan<float>())
        {
            if (!float.IsFinite(v) || Math.Abs(v) >= Magnitude)
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>A refusal for the first constant operand of <paramref name="node"/> at <paramref name="positions"/> that holds a mask value.</summary>
    public static string? Refusal(Node node, GraphIndex index, IReadOnlyList<int> positions)
    {
        foreach (int p in positions)
        {
            if (p < node.Inputs.Count && In(index, node.Inputs[p]) is { } v)
            {
                return $"operand '{node.Inputs[p]}' holds mask values ({v:G3}): an 8-bit grid that reaches them cannot resolve the data next to them";
            }
        }

        return null;
    }
}
