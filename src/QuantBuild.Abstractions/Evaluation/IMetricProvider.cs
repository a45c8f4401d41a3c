namespace QuantBuild.Abstractions.Evaluation;

/// <summary>
/// A metric a plugin adds, used from quantize.yaml as <c>evaluation.metric: &lt;plugin id&gt;/&lt;name&gt;</c> with its
/// options under <c>evaluation.metric_options</c>. Found like passes: every public, non-abstract type in a plugin
/// assembly that implements this and has a public parameterless constructor. Derive from
/// <see cref="MetricProvider{TOptions}"/> rather than implementing this directly.
/// </summary>
public interface IMetricProvider
{
    /// <summary>The name after the plugin id, lower-case, for example <c>macro_f1</c>.</summary>
    string Name { get; }

    /// <summary>The type <c>evaluation.metric_options</c> binds to: public settable properties, snake_case in the yaml.</summary>
    Type OptionsType { get; }

    /// <summary>True when the metric reads <c>evaluation.labels</c>; validation refuses the metric without them.</summary>
    bool NeedsLabels { get; }

    /// <summary>The lowest value the metric takes, or null for unbounded; a gate <c>min</c> outside is a config error.</summary>
    double? Minimum { get; }

    /// <summary>The highest value the metric takes, or null for unbounded (100 for a percentage).</summary>
    double? Maximum { get; }

    /// <summary>Creates the metric for one run with options of <see cref="OptionsType"/>.</summary>
    IMetric Create(MetricRequest request, object options);
}
