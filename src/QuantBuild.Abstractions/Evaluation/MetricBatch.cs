using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Evaluation;

/// <summary>One batch of a model's scored output with what it is compared with.</summary>
/// <param name="Output">The evaluated model's output, float, scores on the last axis.</param>
/// <param name="Reference">The fp32 model's output for the same inputs, when the metric needs it.</param>
/// <param name="Labels">Integer class labels, one per row of <paramref name="Output"/>, when the metric needs them.</param>
public sealed record MetricBatch(DenseTensor Output, DenseTensor? Reference, DenseTensor? Labels);
