using System.Numerics.Tensors;
using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>Mean over rows of the cosine similarity between the model's and the fp32 model's output vectors.</summary>
public sealed class CosineMetric : IMetric
{
    /// <inheritdoc />
    public string Name => "cosine";

    /// <inheritdoc />
    public string Unit => string.Empty;

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public bool NeedsLabels => false;

    /// <inheritdoc />
    public bool NeedsReference => true;

    /// <inheritdoc />
    public double IdealValue => 1;

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally();

    private sealed class Tally : IMetricAccumulator
    {
        private double _sum;
        private long _rows;

        public void Add(MetricBatch batch)
        {
            var reference = batch.Reference ?? throw new InvalidOperationException("cosine needs the fp32 outputs.");
            ReadOnlySpan<float> q = batch.Output.AsSpan<float>();
            ReadOnlySpan<float> r = reference.AsSpan<float>();
            int width = (int)batch.Output.Shape[^1];
            for (int row = 0; row < q.Length / width; row++)
            {
                ReadOnlySpan<float> a = q.Slice(row * width, width);
                ReadOnlySpan<float> b = r.Slice(row * width, width);
                float na = TensorPrimitives.Norm(a), nb = TensorPrimitives.Norm(b);
                // Two zero vectors are the same output; one zero vector against a non-zero one shares no direction.
                _sum += na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : TensorPrimitives.Dot(a, b) / (double)(na * nb);
                _rows++;
            }
        }

        public double Result() => _rows == 0 ? 0 : _sum / _rows;
    }
}
