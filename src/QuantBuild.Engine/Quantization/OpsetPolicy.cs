using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Rewrites;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Raises the default-domain opset to what the encoding needs (13 for per-channel DequantizeLinear, 21 for int4
/// blocks), converting every op whose meaning changes on the way (Clip's bounds, Softmax's axis, Upsample → Resize...)
/// so the raised model computes what the original did. The graph rewrites already raised the model to 13 before
/// planning; this covers the rest (Reduce*-18 axes, for example, on the way to 21) and models encoded directly.
/// </summary>
internal static class OpsetPolicy
{
    /// <summary>Sets the default-domain opset to at least <paramref name="required"/> and the IR version to match.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3002 when an op has no exact equivalent at <paramref name="required"/>.</exception>
    public static void Raise(OnnxModel model, long required) => OpsetConverter.Upgrade(model, required);
}
