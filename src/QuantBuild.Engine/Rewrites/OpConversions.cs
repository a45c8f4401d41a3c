using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// For one default-domain node: the nodes that mean the same at opset <see cref="ConversionScope.To"/> as it meant at
/// <see cref="ConversionScope.From"/>, or null when its meaning did not change on the way. Versions are those at which
/// the ONNX operator changelog records an incompatible change (an attribute became an input, a default or the
/// semantics changed) from opset 7 on; every other op kept its meaning across 7–21.
/// </summary>
internal static class OpConversions
{
    /// <summary>Ops whose meaning changes at some opset, and the versions; what the converter acts on.</summary>
    public static readonly IReadOnlyDictionary<string, long[]> BreakingVersions = new Dictionary<string, long[]>(StringComparer.Ordinal)
    {
        ["Add"] = [7],
        ["Sub"] = [7],
        ["Mul"] = [7],
        ["Div"] = [7],
        ["Pow"] = [7],
        ["Equal"] = [7],
        ["Greater"] = [7],
        ["Less"] = [7],
        ["And"] = [7],
        ["Or"] = [7],
        ["Xor"] = [7],
        ["Gemm"] = [7],
        ["PRelu"] = [7],
        ["RNN"] = [7],
        ["GRU"] = [7],
        ["LSTM"] = [7],
        ["Upsample"] = [10], // deprecated at 10: converted on any raise (see Convert)
        ["Slice"] = [10],
        ["TopK"] = [10],
        ["Clip"] = [11],
        ["Pad"] = [11],
        ["Resize"] = [11],
        ["Scatter"] = [11],
        ["Dropout"] = [7, 12],
        ["Squeeze"] = [13],
        ["Unsqueeze"] = [13],
        ["Split"] = [13, 18],
        ["ReduceSum"] = [13],
        ["Softmax"] = [13],
        ["LogSoftmax"] = [13],
        ["Hardmax"] = [13],
        ["ReduceMean"] = [18],
        ["ReduceMax"] = [18],
        ["ReduceMin"] = [18],
        ["ReduceProd"] = [18],
        ["ReduceL1"] = [18],
        ["ReduceL2"] = [18],
        ["ReduceLogSum"] = [18],
        ["ReduceLogSumExp"] = [18],
        ["ReduceSumSquare"] = [18],
        ["BatchNormalization"] = [7, 9, 14],
        ["Scan"] = [9],
        ["RoiAlign"] = [16],
        ["GridSample"] = [20],
        ["DFT"] = [20],
        ["GroupNormalization"] = [21],
    };

    public static IReadOnlyList<Node>? Convert(Node node, ConversionScope s)
    {
        if (!node.IsDefaultDomain || !BreakingVersions.TryGetValue(node.OpType, out long[]? versions) || (!versions.Any(s.Crosses) && !(node.OpType == "Upsample" && s.From < s.To)))
        {
            return null;
        }

        return node.OpType switch
        {
            _ when s.Crosses(7) && Array.IndexOf(LegacyConversions.BinaryOps, node.OpType) >= 0 => LegacyConversions.Binary(node, s),
            "Softmax" or "LogSoftmax" or "Hardmax" => SoftmaxConversion.Convert(node, s),
            "BatchNormalization" => BatchNormConversion.Convert(node, s),
            _ => One(node, s) is { } one ? [one] : null,
        };
    }

    private static Node? One(Node node, ConversionScope s) => node.OpType switch
    {
        "Gemm" => LegacyConversions.Without(node, "broadcast"),
        "PRelu" => LegacyConversions.PRelu(node, s),
        "RNN" or "GRU" or "LSTM" => LegacyConversions.Without(node, "output_sequence"),
        "Upsample" when s.From < 7 => throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To, "Upsample before opset 7 was experimental"),
        "Upsample" => ResizeConversions.Upsample(node, s),
        "Resize" => ResizeConversions.Resize10(node, s),
        "Slice" => AttributeInputConversions.Slice(node, s),
        "TopK" => AttributeInputConversions.TopK(node, s),
        "Clip" => AttributeInputConversions.Clip(node, s),
        "Pad" => AttributeInputConversions.Pad(node, s),
        "Scatter" => Renamed(node, "ScatterElements"),
        "Dropout" => Dropout(node, s),
        "Squeeze" or "Unsqueeze" or "ReduceSum" => AttributeInputConversions.ListToInput(node, s, "axes"),
        "Split" => AttributeInputConversions.Split(node, s),
        "Scan" => throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
            "Scan-8 iterates over a batch axis with a sequence_lens input, which Scan-9 removed"),
        "RoiAlign" => node.FindAttribute("coordinate_transformation_mode") is null ? WithString(node, "coordinate_transformation_mode", "output_half_pixel") : null,
        "GridSample" => GridSample(node),
        "DFT" => AttributeInputConversions.DftAxis(node, s),
        "GroupNormalization" => throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
            "its scale and bias are per group before opset 21 and per channel from 21, and the channel count is not known here"),
        _ => AttributeInputConversions.ListToInput(node, s, "axes"), // Reduce*-18
    };

    /// <summary>
    /// Dropout is the identity in inference, which is all QuantBuild runs; it becomes Identity unless its mask is read.
    /// A read mask keeps Dropout with ratio as an input (12), unless the mask was still of the data's type (before 10).
    /// </summary>
    private static Node Dropout(Node node, ConversionScope s)
    {
        bool maskRead = node.Outputs.Count > 1 && s.IsRead(node.Outputs[1]);
        if (!maskRead)
        {
            var identity = new Node { Name = node.Name, OpType = "Identity", DocString = node.DocString };
            identity.Inputs.Add(node.Inputs[0]);
            identity.Outputs.Add(node.Outputs[0]);
            return identity;
        }

        if (s.From < 10)
        {
            throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
                "its mask output is read, and the mask is of the data's type before opset 10 but bool from 10");
        }

        Node copy = ModelCopy.Clone(node, "ratio");
        float ratio = node.FindAttribute("ratio")?.Float ?? 0.5f;
        ConversionScope.SetInput(copy, 1, s.AddConstant(ConversionScope.Hint(node) + "_ratio", TensorValue.FromFloats(string.Empty, [ratio])));
        return copy;
    }

    private static Node GridSample(Node node)
    {
        string mode = node.FindAttribute("mode")?.StringValue ?? "bilinear";
        Node copy = ModelCopy.Clone(node, "mode");
        copy.Attributes.Add(NodeAttribute.FromString("mode", mode switch { "bilinear" => "linear", "bicubic" => "cubic", _ => mode }));
        return copy;
    }

    private static Node Renamed(Node node, string op)
    {
        Node copy = ModelCopy.Clone(node);
        copy.OpType = op;
        return copy;
    }

    private static Node WithString(Node node, string name, string value)
    {
        Node copy = ModelCopy.Clone(node);
        copy.Attributes.Add(NodeAttribute.FromString(name, value));
        return copy;
    }
}
