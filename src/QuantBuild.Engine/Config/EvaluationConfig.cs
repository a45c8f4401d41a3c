namespace QuantBuild.Engine.Config;

/// <summary>The <c>evaluation</c> section.</summary>
public sealed record EvaluationConfig
{
    /// <summary>Where the evaluation inputs come from.</summary>
    public required DataSourceConfig Data { get; init; }

    /// <summary>Absolute path of a .npy of integer labels, or null.</summary>
    public string? LabelsPath { get; init; }

    /// <summary>Absolute path of the character dictionary <c>ctc_exact_line</c> decodes through, else null.</summary>
    public string? DictionaryPath { get; init; }

    /// <summary>The metric name (default <c>top1</c> with labels, <c>agreement</c> without).</summary>
    public required string Metric { get; init; }

    /// <summary>For a plugin metric (<c>id/name</c>): its <c>metric_options</c>, bound when the metric is created; otherwise null.</summary>
    public ConfigMapping? MetricOptions { get; init; }

    /// <summary>True when <see cref="Metric"/> is a plugin's (<c>id/name</c>).</summary>
    public bool IsPluginMetric => Metric.Contains('/', StringComparison.Ordinal);

    /// <summary>k for the <c>topk</c> metric (5 for <c>top5</c>, 1 for <c>top1</c>), otherwise null.</summary>
    public int? K { get; init; }

    /// <summary>The model output the metric reads, or null for the first output.</summary>
    public string? Output { get; init; }

    /// <summary>Samples per forward pass (default 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Where the section starts.</summary>
    public SourceLocation Location { get; init; }
}
