using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Upsample (7 and 9, deprecated at 10 and without a kernel at later opsets) and Resize-10 become Resize with the
/// same meaning: Upsample and Resize-10 map output to input coordinates as x_in = x_out / scale ("asymmetric") and
/// pick the nearest pixel by flooring, which Resize-11 on has to be told explicitly (as ONNX's resize_10_11 adapter does).
/// </summary>
internal static class ResizeConversions
{
    public static Node Upsample(Node node, ConversionScope s)
    {
        string scales;
        if (node.FindAttribute("scales") is { } attribute)
        {
            float[] values = attribute.Floats.ToArray();
            scales = s.AddConstant(ConversionScope.Hint(node) + "_scales", TensorValue.FromFloats(string.Empty, values, values.Length));
        }
        else
        {
            scales = node.Inputs.Count > 1 ? node.Inputs[1] : string.Empty;
        }

        return ToResize(node, scales, "scales");
    }

    public static Node Resize10(Node node, ConversionScope s) => ToResize(node, node.Inputs.Count > 1 ? node.Inputs[1] : string.Empty);

    private static Node ToResize(Node node, string scales, params string[] drop)
    {
        Node resize = ModelCopy.Clone(node, [.. drop, "mode"]);
        resize.OpType = "Resize";
        resize.Inputs.Clear();
        resize.Inputs.Add(node.Inputs[0]);
        resize.Inputs.Add(string.Empty); // roi: only read by tf_crop_and_resize
        resize.Inputs.Add(scales);
        string mode = node.FindAttribute("mode")?.StringValue ?? "nearest";
        mode = mode is "bilinear" or "trilinear" ? "linear" : mode;
        resize.Attributes.Add(NodeAttribute.FromString("mode", mode));
        resize.Attributes.Add(NodeAttribute.FromString("coordinate_transformation_mode", "asymmetric"));
        if (mode == "nearest")
        {
            resize.Attributes.Add(NodeAttribute.FromString("nearest_mode", "floor"));
        }

        return resize;
    }
}
