using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>The largest absolute difference between any output and the fp32 model's.</summary>
public sealed class MaxAbsErrorMetric : IMetric
{
    /// <inheritdoc />
    public string Name => "max_abs_error";

    /// <inheritdoc />
    public string Unit => string.Empty;

    /// <inheritdoc />
    public bool HigherIsBetter => false;

    /// <inheritdoc />
    public bool NeedsLabels => false;

    /// <inheritdoc />
    public bool NeedsReference => true;

    /// <inheritdoc />
    public double IdealValue => 0;

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally();

    private sealed class Tally : IMetricAccumulator
    {
        private double _max;

        public void Add(MetricBatch batch)
        {
            var reference = batch.Reference ?? throw new InvalidOperationException("max_abs_error needs the fp32 outputs.");
            ReadOnlySpan<float> q = batch.Output.AsSpan<float>();
            ReadOnlySpan<float> r = reference.AsSpan<float>();
            for (int i = 0; i < q.Length; i++)
            {
                double d = Math.Abs((double)r[i] - q[i]);
                if (d > _max || double.IsNaN(d))
                {
                    _max = double.IsNaN(d) ? double.PositiveInfinity : d;
                }
            }
        }

        public double Result() => _max;
    }
}
