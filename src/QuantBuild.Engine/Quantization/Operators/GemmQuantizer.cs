using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Gemm: int8 weights per output column (row when transB), int32 bias, QGemm with float or quantized output.</summary>
internal sealed class GemmQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Gemm" };

    public override string Becomes => "QGemm (int8 weights per output channel, int32 bias); with `activations: dynamic`: DynamicQuantizeMatMul (B transposed when `transB`, `alpha` and `beta` folded into scales and bias)";

    public override bool FusesWithoutOutputQuantize => true;

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Linear;

    public override WeightInput? Weight(Node node, GraphIndex index) =>
        new(1, node.FindAttribute("transB")?.Int == 1 ? 0 : 1, 2);

    // DynamicQuantizeMatMul is A·B + bias: A as is, B a constant [K, N] (transposed here when transB), bias one float per column.
    public override string? DynamicRefusal(Node node, GraphIndex index)
    {
        if (node.FindAttribute("transA")?.Int == 1)
        {
            return "transA = 1: DynamicQuantizeMatMul has no transposed input A";
        }

        if (node.Inputs.Count < 2 || index.IsOverridableInitializer(node.Inputs[1]) || index.Constant(node.Inputs[1]) is not { ElementType: Abstractions.Tensors.ElementType.Float } w || w.Dims.Length != 2)
        {
            return "B is not a constant 2-D float32 weight";
        }

        long columns = node.FindAttribute("transB")?.Int == 1 ? w.Dims[0] : w.Dims[1];
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            string c = node.Inputs[2];
            if (index.IsOverridableInitializer(c) || index.Constant(c) is not { ElementType: Abstractions.Tensors.ElementType.Float } bias
                || bias.Dims.Aggregate(1L, (a, d) => a * d) != columns || (bias.Dims.Length == 2 && bias.Dims[0] != 1) || bias.Dims.Length > 2)
            {
                return $"C '{c}' is not a constant float32 vector of {columns} values, so it cannot become the kernel's bias";
            }
        }

        return null;
    }

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
