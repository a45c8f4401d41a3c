using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Conversions for ops whose attributes became inputs (Slice-10, TopK-10, Clip-11, Pad-11, Squeeze/Unsqueeze/Split/
/// ReduceSum-13, Reduce*-18, DFT-20): the attribute's value becomes a constant input, the meaning is unchanged.
/// Each returns null when the node needs nothing.
/// </summary>
internal static class AttributeInputConversions
{
    public static Node? Slice(Node node, ConversionScope s)
    {
        if (node.FindAttribute("starts") is not { } starts || node.FindAttribute("ends") is not { } ends)
        {
            return null;
        }

        string hint = ConversionScope.Hint(node);
        Node copy = ModelCopy.Clone(node, "starts", "ends", "axes");
        copy.Inputs.RemoveRange(1, copy.Inputs.Count - 1);
        copy.Inputs.Add(s.AddInt64s(hint + "_starts", starts.Ints));
        copy.Inputs.Add(s.AddInt64s(hint + "_ends", ends.Ints));
        if (node.FindAttribute("axes") is { } axes)
        {
            copy.Inputs.Add(s.AddInt64s(hint + "_axes", axes.Ints));
        }

        return copy;
    }

    public static Node? TopK(Node node, ConversionScope s)
    {
        if (node.FindAttribute("k") is not { Int: { } k })
        {
            return null;
        }

        Node copy = ModelCopy.Clone(node, "k");
        ConversionScope.SetInput(copy, 1, s.AddInt64s(ConversionScope.Hint(node) + "_k", [k]));
        return copy;
    }

    /// <summary>An <c>axes</c> (or <c>split</c>) list attribute becomes input 1; without the attribute nothing changes.</summary>
    public static Node? ListToInput(Node node, ConversionScope s, string attribute)
    {
        if (node.FindAttribute(attribute) is not { } list)
        {
            return null;
        }

        Node copy = ModelCopy.Clone(node, attribute);
        ConversionScope.SetInput(copy, 1, s.AddInt64s(ConversionScope.Hint(node) + "_" + attribute, list.Ints));
        return copy;
    }

    /// <summary>
    /// Split: <c>split</c> becomes an input at 13; from 18 a Split without sizes must say how many outputs it makes
    /// (as ONNX's split_17_18 adapter does), which is the number of outputs it has.
    /// </summary>
    public static Node? Split(Node node, ConversionScope s)
    {
        Node? converted = s.Crosses(13) ? ListToInput(node, s, "split") : null;
        Node result = converted ?? node;
        bool hasSizes = result.Inputs.Count > 1 && result.Inputs[1].Length > 0;
        if (s.To >= 18 && !hasSizes && result.FindAttribute("num_outputs") is null)
        {
            result = converted ?? ModelCopy.Clone(node);
            result.Attributes.Add(NodeAttribute.FromInt("num_outputs", result.Outputs.Count));
        }

        return ReferenceEquals(result, node) ? null : result;
    }

    /// <summary>Clip-6's min/max attributes (defaults: no bound) become inputs of the data's element type.</summary>
    public static Node Clip(Node node, ConversionScope s)
    {
        Node copy = ModelCopy.Clone(node, "min", "max");
        copy.Inputs.RemoveRange(1, copy.Inputs.Count - 1);
        string hint = ConversionScope.Hint(node);
        var type = s.TypeOf(node.Inputs[0]);
        string Bound(string name) => node.FindAttribute(name) is { Float: { } v }
            ? s.AddConstant(hint + "_" + name, GraphConstants.Scalar(string.Empty, type, v) ?? throw Unsupported(node, s, type.ToString()))
            : string.Empty;
        copy.Inputs.Add(Bound("min"));
        copy.Inputs.Add(Bound("max"));
        while (copy.Inputs.Count > 1 && copy.Inputs[^1].Length == 0)
        {
            copy.Inputs.RemoveAt(copy.Inputs.Count - 1);
        }

        return copy;
    }

    /// <summary>Pad-2's pads and value attributes become inputs; mode stays an attribute.</summary>
    public static Node? Pad(Node node, ConversionScope s)
    {
        if (node.FindAttribute("pads") is not { } pads)
        {
            return null;
        }

        string hint = ConversionScope.Hint(node);
        Node copy = ModelCopy.Clone(node, "pads", "value");
        copy.Inputs.RemoveRange(1, copy.Inputs.Count - 1);
        copy.Inputs.Add(s.AddInt64s(hint + "_pads", pads.Ints));
        if (node.FindAttribute("value") is { Float: { } value } && value != 0f)
        {
            var type = s.TypeOf(node.Inputs[0]);
            copy.Inputs.Add(s.AddConstant(hint + "_value", GraphConstants.Scalar(string.Empty, type, value) ?? throw Unsupported(node, s, type.ToString())));
        }

        return copy;
    }

    /// <summary>DFT-17's axis attribute (default 1) becomes input 2 at 20.</summary>
    public static Node DftAxis(Node node, ConversionScope s)
    {
        long axis = node.FindAttribute("axis")?.Int ?? 1;
        Node copy = ModelCopy.Clone(node, "axis");
        ConversionScope.SetInput(copy, 2, s.AddConstant(ConversionScope.Hint(node) + "_axis", GraphConstants.Int64s(string.Empty, [axis])));
        return copy;
    }

    private static Abstractions.Diagnostics.QuantBuildException Unsupported(Node node, ConversionScope s, string type) =>
        RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To, $"its data type {type} has no scalar form here");
}
