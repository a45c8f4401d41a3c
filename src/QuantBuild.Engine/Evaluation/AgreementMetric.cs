using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>Percent of rows whose argmax (lowest index on ties) equals the fp32 model's argmax: accuracy without labels.</summary>
public sealed class AgreementMetric : IMetric
{
    /// <inheritdoc />
    public string Name => "agreement";

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

    /// <summary>Index of the largest score, the lowest index among equals; NaN never wins.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int j = 1; j < scores.Length; j++)
        {
            if (scores[j] > scores[best] || float.IsNaN(scores[best]))
            {
                best = j;
            }
        }

        return best;
    }

    private sealed class Tally : IMetricAccumulator
    {
        private long _same;
        private long _rows;

        public void Add(MetricBatch batch)
        {
            var reference = batch.Reference ?? throw new InvalidOperationException("agreement needs the fp32 outputs.");
            ReadOnlySpan<float> q = batch.Output.AsSpan<float>();
            ReadOnlySpan<float> r = reference.AsSpan<float>();
            int classes = (int)batch.Output.Shape[^1];
            for (int row = 0; row < q.Length / classes; row++)
            {
                if (ArgMax(q.Slice(row * classes, classes)) == ArgMax(r.Slice(row * classes, classes)))
                {
                    _same++;
                }

                _rows++;
            }
        }

        public double Result() => _rows == 0 ? 0 : 100.0 * _same / _rows;
    }
}
