using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Rewrites;

/// <summary>The failures of the graph rewrites, one factory per code so messages stay uniform.</summary>
internal static class RewriteErrors
{
    public static QuantBuildException NotConvertible(string node, string opType, long from, long to, string why) => new(
        "QB3002",
        $"The model declares default-domain opset {from} and the encoding needs {to}, but node '{node}' ({opType}) cannot be converted: {why}.",
        $"Re-export the model at opset {to} or later (torch.onnx.export(..., opset_version={to})); QuantBuild converts every other op itself, but this one has no exact equivalent.");

    public static QuantBuildException OpsetTooOld(long from, long to) => new(
        "QB3002",
        $"The model declares default-domain opset {from}; QuantBuild converts models from opset 6 on to the {to} the encoding needs, and ops changed meaning before 6.",
        $"Re-export the model at opset {to} or later (torch.onnx.export(..., opset_version={to})).");
}
