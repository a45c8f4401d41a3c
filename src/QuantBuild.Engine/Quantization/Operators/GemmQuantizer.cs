using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Gemm: int8 weights per output column (row when transB), int32 bias, QGemm with float or quantized output.</summary>
internal sealed class GemmQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Gemm" };

    public override string Becomes => "QGemm (int8 weights per output channel, int32 bias)";

    public override bool FusesWithoutOutputQuantize => true;

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Linear;

    public override WeightInput? Weight(Node node, GraphIndex index) =>
        new(1, node.FindAttribute("transB")?.Int == 1 ? 0 : 1, 2);

    public override string? Refusal(Node node, GraphIndex index)
    {
        float alpha = node.FindAttribute("alpha")?.Float ?? 1f;
        float beta = node.FindAttribute("beta")?.Float ?? 1f;
        if (alpha != 1f)
        {
            return $"unsupported attribute: alpha = {alpha} (QGemm fusion needs 1)";
        }

        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && beta != 1f)
        {
            return $"unsupported attribute: beta = {beta} with a bias (QGemm fusion needs 1)";
        }

        return node.Inputs.Count > 1 && index.Constant(node.Inputs[1]) is { } w && w.Dims.Length != 2
            ? $"weight '{node.Inputs[1]}' has rank {w.Dims.Length}; only 2-D Gemm weights have per-channel integer kernels"
            : null;
    }
}
