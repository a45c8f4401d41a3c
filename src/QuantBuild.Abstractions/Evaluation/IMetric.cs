namespace QuantBuild.Abstractions.Evaluation;

/// <summary>
/// A way to score a model's outputs: against labels (accuracy) or against the fp32 model's outputs on the same
/// inputs (fidelity). Scores stream in batch by batch, so evaluation memory does not grow with the data set.
/// The engine's built-in metrics implement it; a plugin adds one through an <see cref="IMetricProvider"/>.
/// </summary>
public interface IMetric
{
    /// <summary>The name used in quantize.yaml and reports, for example <c>top1</c>.</summary>
    string Name { get; }

    /// <summary>The unit for reports: <c>%</c>, <c>dB</c>, or empty.</summary>
    string Unit { get; }

    /// <summary>True when a larger value is better (accuracy), false when smaller is (error).</summary>
    bool HigherIsBetter { get; }

    /// <summary>True when the metric needs labels.</summary>
    bool NeedsLabels { get; }

    /// <summary>True when the metric compares with the fp32 model's outputs.</summary>
    bool NeedsReference { get; }

    /// <summary>The value the fp32 model scores against itself for a reference metric (for example 100 % agreement).</summary>
    double IdealValue { get; }

    /// <summary>Starts a fresh tally.</summary>
    IMetricAccumulator Start();
}
