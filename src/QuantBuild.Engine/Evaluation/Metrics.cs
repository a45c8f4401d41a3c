using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>The built-in metrics by their quantize.yaml names.</summary>
public static class Metrics
{
    /// <summary>The metric called <paramref name="name"/> (<paramref name="k"/> is used by <c>topk</c>), or null.</summary>
    public static IMetric? Create(string name, int? k = null) => name switch
    {
        "top1" => new TopKMetric(1),
        "top5" => new TopKMetric(5),
        "topk" => new TopKMetric(k ?? 5, $"top{k ?? 5}"),
        "agreement" => new AgreementMetric(),
        "cosine" => new CosineMetric(),
        "sqnr" => new SqnrMetric(),
        "max_abs_error" => new MaxAbsErrorMetric(),
        _ => null,
    };
}
