using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Percent of probabilities on the same side of 0.5 as the fp32 model's: the share of yes/no decisions (speech or
/// not in a voice-activity detector's window, a sigmoid classifier's verdict) quantization leaves unchanged. Every
/// element of the output is one decision, so [n, 1] scores n windows. NaN is never "yes".
/// </summary>
public sealed class DecisionAgreementMetric : IMetric
{
    /// <summary>The probability above which a decision is "yes".</summary>
    public const float Threshold = 0.5f;

    /// <inheritdoc />
    public string Name => "decision_agreement";

    /// <inheritdoc />
    public string Unit => "%";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public bool NeedsLabels => false;

    /// <inheritdoc />
    public bool NeedsReference => true;

    /// <inheritdoc />
    public double IdealValue => 100;

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally();

    private sealed class Tally : IMetricAccumulator
    {
        private long _same;
        private long _decisions;

        public void Add(MetricBatch batch)
        {
            var reference = batch.Reference ?? throw new InvalidOperationException("decision_agreement needs the fp32 outputs.");
            ReadOnlySpan<float> q = batch.Output.AsSpan<float>();
            ReadOnlySpan<float> r = reference.AsSpan<float>();
            for (int i = 0; i < q.Length; i++)
            {
                if (q[i] > Threshold == r[i] > Threshold)
                {
                    _same++;
                }
            }

            _decisions += q.Length;
        }

        public double Result() => _decisions == 0 ? 0 : 100.0 * _same / _decisions;
    }
}
