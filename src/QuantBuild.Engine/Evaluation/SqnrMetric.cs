using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Evaluation;

/// <summary>Signal-to-quantization-noise ratio in dB over all outputs: 10·log10(Σ fp32² / Σ (fp32 − q)²).</summary>
public sealed class SqnrMetric : IMetric
{
    /// <inheritdoc />
    public string Name => "sqnr";

    /// <inheritdoc />
    public string Unit => "dB";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public bool NeedsLabels => false;

    /// <inheritdoc />
    public bool NeedsReference => true;

    /// <inheritdoc />
    public double IdealValue => double.PositiveInfinity;

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally();

    /// <summary>SQNR in dB from signal and noise energies; +∞ when there is no noise.</summary>
    public static double Decibels(double signal, double noise) =>
        noise == 0 ? double.PositiveInfinity : signal == 0 ? double.NegativeInfinity : 10 * Math.Log10(signal / noise);

    private sealed class Tally : IMetricAccumulator
    {
        private double _signal;
        private double _noise;

        public void Add(MetricBatch batch)
        {
            var reference = batch.Reference ?? throw new InvalidOperationException("sqnr needs the fp32 outputs.");
            ReadOnlySpan<float> q = batch.Output.AsSpan<float>();
            ReadOnlySpan<float> r = reference.AsSpan<float>();
            for (int i = 0; i < q.Length; i++)
            {
                double d = (double)r[i] - q[i];
                _signal += (double)r[i] * r[i];
                _noise += d * d;
            }
        }

        public double Result() => Decibels(_signal, _noise);
    }
}
