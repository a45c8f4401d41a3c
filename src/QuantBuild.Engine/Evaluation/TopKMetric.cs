using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Top-k accuracy in percent. Ties rank exactly as argmax does, lowest index first, so a quantized model whose
/// logits collapse to equal values is not credited with a hit it would not make at inference.
/// </summary>
public sealed class TopKMetric : IMetric
{
    /// <summary>Creates top-<paramref name="k"/> accuracy.</summary>
    public TopKMetric(int k, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
        Name = name ?? (k == 1 ? "top1" : $"top{k}");
    }

    /// <summary>How many best-scored classes count as a hit.</summary>
    public int K { get; }

    /// <inheritdoc />
    public string Name { get; }

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
    public IMetricAccumulator Start() => new Tally(K);

    /// <summary>
    /// The rank of class <paramref name="label"/> in <paramref name="scores"/>: how many classes argmax-style ordering
    /// puts before it (strictly greater scores, or equal scores at a lower index). NaN scores rank last.
    /// </summary>
    public static int Rank(ReadOnlySpan<float> scores, int label)
    {
        float s = scores[label];
        if (float.IsNaN(s))
        {
            return scores.Length;
        }

        int rank = 0;
        for (int j = 0; j < scores.Length; j++)
        {
            if (scores[j] > s || (j < label && scores[j] == s))
            {
                rank++;
            }
        }

        return rank;
    }

    private sealed class Tally(int k) : IMetricAccumulator
    {
        private long _hits;
        private long _rows;

        public void Add(MetricBatch batch)
        {
            DenseTensor labels = batch.Labels ?? throw new InvalidOperationException("top-k accuracy needs labels.");
            ReadOnlySpan<float> scores = batch.Output.AsSpan<float>();
            int classes = (int)batch.Output.Shape[^1];
            long rows = scores.Length / classes;
            if (labels.ElementCount != rows)
            {
                throw new QuantBuildException("QB1256", $"The scored output has {rows} rows of {classes} scores but {labels.ElementCount} labels came with them.",
                    "write one label per output row (for sequence outputs [n, seq, classes], labels of shape [n, seq]) and check evaluation.output");
            }

            for (int r = 0; r < rows; r++)
            {
                long label = LabelAt(labels, r);
                if (label < 0 || label >= classes)
                {
                    throw new QuantBuildException("QB1257", $"Label {label} is outside the model's {classes} classes (0..{classes - 1}).",
                        "check that evaluation.labels belongs to this model and holds class indices, not one-hot rows or names");
                }

                if (Rank(scores.Slice(r * classes, classes), (int)label) < k)
                {
                    _hits++;
                }
            }

            _rows += rows;
        }

        public double Result() => _rows == 0 ? 0 : 100.0 * _hits / _rows;
    }

    internal static long LabelAt(DenseTensor labels, int index) => labels.ElementType switch
    {
        ElementType.Int64 => labels.AsSpan<long>()[index],
        ElementType.Int32 => labels.AsSpan<int>()[index],
        ElementType.UInt8 => labels.AsSpan<byte>()[index],
        ElementType.Int8 => labels.AsSpan<sbyte>()[index],
        ElementType.Int16 => labels.AsSpan<short>()[index],
        _ => throw new QuantBuildException("QB1258", $"Labels must be integers, not {ElementTypeInfo.OnnxName(labels.ElementType)}.",
            "save the labels as an integer array (numpy: labels.astype('int64'))"),
    };
}
