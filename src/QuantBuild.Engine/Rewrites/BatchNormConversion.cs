using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// BatchNormalization-6's <c>is_test</c> is gone at 7 (inference is all there is). BatchNormalization-7's <c>spatial</c> attribute is gone at 9, which always normalises per channel. spatial=1 (the
/// default) is exactly that. spatial=0 normalises each activation with parameters shaped [C, D1, ...]; that is written
/// out as (x - mean) / Sqrt(var + epsilon) * scale + B, whose right-aligned broadcasting is exactly the old meaning.
/// From 14 the optional outputs are training statistics only: unused ones are dropped, used ones cannot be converted.
/// </summary>
internal static class BatchNormConversion
{
    public static IReadOnlyList<Node>? Convert(Node node, ConversionScope s)
    {
        bool extras = node.Outputs.Count > 1;
        if (extras && node.Outputs.Skip(1).Any(s.IsRead) && (s.Crosses(9) || s.Crosses(14)))
        {
            throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
                "it is in training mode (its mean/variance outputs are used), whose outputs changed at opsets 9 and 14");
        }

        if (s.Crosses(7) && node.FindAttribute("is_test") is { Int: 0 })
        {
            throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To,
                "it is exported in training mode (is_test=0), which normalises with each batch's own statistics");
        }

        bool isTestGone = s.Crosses(7) && node.FindAttribute("is_test") is not null;
        bool spatialGone = s.Crosses(9) && node.FindAttribute("spatial") is not null;
        if (!spatialGone && !isTestGone && !(extras && s.Crosses(14)))
        {
            return null;
        }

        if (spatialGone && node.FindAttribute("spatial")!.Int == 0)
        {
            return PerActivation(node, s);
        }

        Node copy = ModelCopy.Clone(node, "spatial", "is_test");
        copy.Outputs.RemoveRange(1, copy.Outputs.Count - 1);
        return [copy];
    }

    private static IReadOnlyList<Node> PerActivation(Node node, ConversionScope s)
    {
        string hint = ConversionScope.Hint(node);
        float epsilon = node.FindAttribute("epsilon")?.Float ?? 1e-5f;
        string x = node.Inputs[0];
        var type = s.TypeOf(x);
        string eps = s.AddConstant(hint + "_epsilon", GraphConstants.Scalar(string.Empty, type, epsilon)
            ?? throw RewriteErrors.NotConvertible(node.DisplayName, node.OpType, s.From, s.To, $"spatial=0 with data type {type}"));
        Node centred = s.NewNode("Sub", hint + "_centre", [x, node.Inputs[3]]);
        Node shifted = s.NewNode("Add", hint + "_var_eps", [node.Inputs[4], eps]);
        Node std = s.NewNode("Sqrt", hint + "_std", [shifted.Outputs[0]]);
        Node normal = s.NewNode("Div", hint + "_normalise", [centred.Outputs[0], std.Outputs[0]]);
        Node scaled = s.NewNode("Mul", hint + "_scale", [normal.Outputs[0], node.Inputs[1]]);
        Node shifted2 = s.NewNode("Add", hint, [scaled.Outputs[0], node.Inputs[2]], node.Outputs[0]);
        return [centred, shifted, std, normal, scaled, shifted2];
    }
}
