using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Softmax, LogSoftmax and Hardmax before 13 flatten their input to 2-D at <c>axis</c> (default 1) and normalise each
/// row; from 13 they normalise along the one axis (default -1). When the axis is the last one the two agree and only
/// the attribute is made explicit. Otherwise the old meaning is kept exactly, as ONNX's softmax_12_13 adapter does:
/// Flatten at the axis, normalise the rows, Reshape back to the input's Shape. An unknown rank takes that path too.
/// </summary>
internal static class SoftmaxConversion
{
    public static IReadOnlyList<Node> Convert(Node node, ConversionScope s)
    {
        long axis = node.FindAttribute("axis")?.Int ?? 1;
        string x = node.Inputs[0];
        if (s.Facts.RankOf(x) is { } rank && (axis < 0 ? axis + rank : axis) == rank - 1)
        {
            Node same = ModelCopy.Clone(node, "axis");
            same.Attributes.Add(NodeAttribute.FromInt("axis", -1));
            return [same];
        }

        string hint = ConversionScope.Hint(node);
        Node shape = s.NewNode("Shape", hint + "_shape", [x]);
        Node flatten = s.NewNode("Flatten", hint + "_flatten", [x], null, NodeAttribute.FromInt("axis", axis));
        Node rows = ModelCopy.Clone(node, "axis");
        rows.Inputs.Replace(0, flatten.Outputs[0]);
        rows.Outputs.Replace(0, s.NewName(node.Outputs[0] + "_2d"));
        rows.Attributes.Add(NodeAttribute.FromInt("axis", -1));
        Node reshape = s.NewNode("Reshape", hint + "_reshape", [rows.Outputs[0], shape.Outputs[0]], node.Outputs[0]);
        return [shape, flatten, rows, reshape];
    }
}
