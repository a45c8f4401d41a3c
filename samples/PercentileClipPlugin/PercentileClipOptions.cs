using System.ComponentModel.DataAnnotations;

namespace PercentileClipPlugin;

/// <summary>The pass's options, bound from its recipe step (snake_case keys).</summary>
public sealed class PercentileClipOptions
{
    /// <summary><c>min_ratio</c>: the smallest clipping range tried, as a fraction of the channel's absolute maximum.</summary>
    [Range(0.05, 1.0)]
    public double MinRatio { get; set; } = 0.5;

    /// <summary><c>steps</c>: how many clipping ratios are tried between <see cref="MinRatio"/> and 1.</summary>
    [Range(2, 1000)]
    public int Steps { get; set; } = 64;

    /// <summary><c>op_types</c>: the ops whose weights the pass encodes.</summary>
    public string[] OpTypes { get; set; } = ["Conv", "Gemm", "MatMul"];
}
