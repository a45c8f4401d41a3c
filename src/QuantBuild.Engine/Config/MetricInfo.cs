namespace QuantBuild.Engine.Config;

/// <summary>What validation knows of a metric: whether it needs labels and the range its values live in.</summary>
/// <param name="Name">The name written after <c>metric:</c>.</param>
/// <param name="NeedsLabels">True when the metric reads <c>evaluation.labels</c>.</param>
/// <param name="Minimum">The lowest value the metric can take, or null for unbounded.</param>
/// <param name="Maximum">The highest value the metric can take, or null for unbounded.</param>
/// <param name="HasDropBaseline">False when fp32 scored against itself is infinite (sqnr), so <c>max_drop</c> means nothing.</param>
public sealed record MetricInfo(string Name, bool NeedsLabels, double? Minimum, double? Maximum, bool HasDropBaseline = true)
{
    /// <summary>The metrics the engine ships. Accuracy-like metrics are percentages (0–100).</summary>
    public static readonly IReadOnlyList<MetricInfo> BuiltIn = new MetricInfo[]
    {
        new("top1", NeedsLabels: true, 0, 100),
        new("top5", NeedsLabels: true, 0, 100),
        new("topk", NeedsLabels: true, 0, 100),
        new("agreement", NeedsLabels: false, 0, 100),
        new("cosine", NeedsLabels: false, -1, 1),
        new("sqnr", NeedsLabels: false, null, null, HasDropBaseline: false),
        new("max_abs_error", NeedsLabels: false, 0, null),
        new("ctc_exact_line", NeedsLabels: true, 0, 100),
        new("box_fscore", NeedsLabels: true, 0, 100),
        new("decision_agreement", NeedsLabels: false, 0, 100),
    };
}
