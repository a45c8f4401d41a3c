namespace QuantBuild.Abstractions.Evaluation;

/// <summary>The base class for a plugin metric with typed options; override <see cref="Name"/> and <see cref="Create(MetricRequest, TOptions)"/>.</summary>
/// <typeparam name="TOptions">The class <c>evaluation.metric_options</c> binds to (<c>NoPassOptions</c> for none).</typeparam>
public abstract class MetricProvider<TOptions> : IMetricProvider
    where TOptions : class, new()
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type OptionsType => typeof(TOptions);

    /// <inheritdoc />
    public abstract bool NeedsLabels { get; }

    /// <inheritdoc />
    public virtual double? Minimum => null;

    /// <inheritdoc />
    public virtual double? Maximum => null;

    /// <summary>Creates the metric with its bound options.</summary>
    public abstract IMetric Create(MetricRequest request, TOptions options);

    IMetric IMetricProvider.Create(MetricRequest request, object options) => Create(request, (TOptions)options);
}
