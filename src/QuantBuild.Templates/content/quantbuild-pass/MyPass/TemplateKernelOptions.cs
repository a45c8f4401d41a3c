using System.ComponentModel.DataAnnotations;

namespace MyPass;

/// <summary>The pass's options, bound from its recipe step in quantize.yaml (snake_case keys).</summary>
public sealed class TemplateKernelOptions
{
    /// <summary><c>clip_ratio</c>: each channel's scale covers this fraction of its absolute maximum (1 = no clipping).</summary>
    [Range(0.05, 1.0)]
    public double ClipRatio { get; set; } = 1.0;

    /// <summary><c>op_types</c>: the ops whose weights the pass encodes.</summary>
    public string[] OpTypes { get; set; } = ["Conv", "Gemm", "MatMul"];
}
