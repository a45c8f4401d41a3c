using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// The opset 6 → 7 changes, for early PyTorch and Caffe2 exports: binary ops and Gemm lost their <c>broadcast</c>/
/// <c>axis</c> attributes for numpy broadcasting, BatchNormalization and Dropout lost <c>is_test</c>, RNN/GRU/LSTM lost
/// <c>output_sequence</c>, and PRelu's slope broadcasts numpy-style instead of per channel.
/// </summary>
internal static class LegacyConversions
{
    public static readonly string[] BinaryOps = ["Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "Less", "And", "Or", "Xor"];

    /// <summary>
    /// Legacy broadcasting with <c>axis</c> lines B's dimensions up with A's starting at <c>axis</c>; numpy lines them up
    /// at the end, so B gets trailing 1s (a reshaped constant, or an Unsqueeze) to mean the same.
    /// </summary>
    public static IReadOnlyList<Node> Binary(Node node, ConversionScope s)
    {
        Node copy = ModelCopy.Clone(node, "broadcast", "axis");
        if (node.FindAttribute("broadcast")?.Int != 1 || node.FindAttribute("axis") is not { Int: { } axis })
        {
            return [copy];
        }

        string b = node.Inputs[1];
        if (s.Facts.RankOf(node.Inputs[0]) is not { } rankA || s.Facts.RankOf(b) is not { } rankB)
        {
            throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
                "its legacy broadcast along axis needs the ranks of both inputs, which the model does not declare");
        }

        int trailing = (int)(rankA - (axis < 0 ? axis + rankA : axis) - rankB);
        if (trailing <= 0)
        {
            return [copy];
        }

        string hint = ConversionScope.Hint(node);
        if (s.Constants.Find(b) is { } constant)
        {
            copy.Inputs.Replace(1, s.AddConstant(b + "_aligned", new TensorValue
            {
                ElementType = constant.ElementType,
                Dims = [.. constant.Dims, .. Enumerable.Repeat(1L, trailing)],
                Data = constant.Data,
            }));
            return [copy];
        }

        long[] axes = Enumerable.Range(rankB, trailing).Select(i => (long)i).ToArray();
        Node unsqueeze = s.NewNode("Unsqueeze", hint + "_align", [b, s.AddInt64s(hint + "_align_axes", axes)]);
        copy.Inputs.Replace(1, unsqueeze.Outputs[0]);
        return [unsqueeze, copy];
    }

    /// <summary>PRelu-6 applied a [C] slope per channel (axis 1); numpy broadcasting needs it as [C, 1, ...].</summary>
    public static Node? PRelu(Node node, ConversionScope s)
    {
        if (s.Constants.Find(node.Inputs[1]) is not { Dims: [long channels] } slope || channels == 1
            || s.Facts.RankOf(node.Inputs[0]) is not { } rank || rank < 3)
        {
            return null;
        }

        Node copy = ModelCopy.Clone(node);
        copy.Inputs.Replace(1, s.AddConstant(node.Inputs[1] + "_per_channel", new TensorValue
        {
            ElementType = slope.ElementType,
            Dims = [channels, .. Enumerable.Repeat(1L, rank - 2)],
            Data = slope.Data,
        }));
        return copy;
    }

    public static Node? Without(Node node, params string[] attributes) =>
        attributes.Any(a => node.FindAttribute(a) is not null) ? ModelCopy.Clone(node, attributes) : null;
}
