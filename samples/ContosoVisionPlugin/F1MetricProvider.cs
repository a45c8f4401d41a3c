using QuantBuild.Abstractions.Evaluation;

namespace Contoso.Vision;

/// <summary><c>metric: contoso/f1</c>: F1 over the classes of a classifier, in percent.</summary>
public sealed class F1MetricProvider : MetricProvider<F1Options>
{
    /// <inheritdoc />
    public override string Name => "f1";

    /// <inheritdoc />
    public override bool NeedsLabels => true;

    /// <inheritdoc />
    public override double? Minimum => 0;

    /// <inheritdoc />
    public override double? Maximum => 100;

    /// <inheritdoc />
    public override IMetric Create(MetricRequest request, F1Options options) => new F1Metric(options.Average);
}
