using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;

namespace Contoso.Vision;

/// <summary>
/// Per-class F1 (2·precision·recall / (precision + recall)) of the argmax prediction, averaged over the classes that
/// have labels or predictions. Ties go to the lowest index, exactly as argmax at inference.
/// </summary>
public sealed class F1Metric(F1Average average) : IMetric
{
    /// <inheritdoc />
    public string Name => average == F1Average.Macro ? "macro_f1" : "weighted_f1";

    /// <inheritdoc />
    public string Unit => "%";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public bool NeedsLabels => true;

    /// <inheritdoc />
    public bool NeedsReference => false;

    /// <inheritdoc />
    public double IdealValue => 100;

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally(average);

    private sealed class Tally(F1Average average) : IMetricAccumulator
    {
        private long[] _truePositive = [];
        private long[] _predicted = [];
        private long[] _actual = [];

        public void Add(MetricBatch batch)
        {
            DenseTensor labels = batch.Labels ?? throw new InvalidOperationException("F1 needs labels.");
            ReadOnlySpan<float> scores = batch.Output.AsSpan<float>();
            int classes = (int)batch.Output.Shape[^1];
            int rows = scores.Length / classes;
            if (_actual.Length == 0)
            {
                (_truePositive, _predicted, _actual) = (new long[classes], new long[classes], new long[classes]);
            }

            if (labels.ElementCount != rows)
            {
                throw new QuantBuildException("QB7110", $"contoso/f1 got {rows} rows of {classes} scores with {labels.ElementCount} labels.",
                    "write one integer label per evaluation sample, and check 'evaluation.output' names the class scores");
            }

            for (int r = 0; r < rows; r++)
            {
                long label = labels.ElementType == ElementType.Int64 ? labels.AsSpan<long>()[r] : labels.ElementType == ElementType.Int32 ? labels.AsSpan<int>()[r] : -1;
                if (label < 0 || label >= classes)
                {
                    throw new QuantBuildException("QB7111", $"contoso/f1: label {label} of row {r} is not a class index 0..{classes - 1} (labels must be int32 or int64).",
                        "save the labels as integer class indices (numpy: labels.astype('int64'))");
                }

                int predicted = ArgMax(scores.Slice(r * classes, classes));
                _predicted[predicted]++;
                _actual[label]++;
                if (predicted == label)
                {
                    _truePositive[label]++;
                }
            }
        }

        public double Result()
        {
            double sum = 0, weights = 0;
            for (int c = 0; c < _actual.Length; c++)
            {
                if (_actual[c] + _predicted[c] == 0)
                {
                    continue;
                }

                double f1 = 2.0 * _truePositive[c] / (_actual[c] + _predicted[c]);
                double weight = average == F1Average.Macro ? 1 : _actual[c];
                sum += weight * f1;
                weights += weight;
            }

            return weights == 0 ? 0 : 100 * sum / weights;
        }

        private static int ArgMax(ReadOnlySpan<float> scores)
        {
            int best = 0;
            for (int j = 1; j < scores.Length; j++)
            {
                if (scores[j] > scores[best] || (float.IsNaN(scores[best]) && !float.IsNaN(scores[j])))
                {
                    best = j;
                }
            }

            return best;
        }
    }
}
