using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Raises the default-domain opset to <see cref="Target"/> (13: per-channel DequantizeLinear) before anything plans
/// on the graph, so every later stage sees Clip with bound inputs, Resize instead of Upsample, and so on.
/// </summary>
internal sealed class OpsetUpgradeRewrite : IGraphRewrite
{
    public const long DefaultTarget = 13;

    public OpsetUpgradeRewrite(long target = DefaultTarget) => Target = target;

    public long Target { get; }

    public string Name => "opset-upgrade";

    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3002 for an op with no exact equivalent at <see cref="Target"/>.</exception>
    public RewriteResult Apply(OnnxModel model)
    {
        long from = model.OpsetVersion() ?? 1;
        IReadOnlyList<string> converted = OpsetConverter.Upgrade(model, Target);
        return RewriteResult.Of(Name, converted, detail: from >= Target ? null : $"opset {from} → {Target}");
    }
}
