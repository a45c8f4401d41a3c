using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>Histograms past <see cref="StreamingHistogram.ExactValues"/>: sampled batches, weighted counts.</summary>
public class StreamingHistogramSamplingTests
{
    [Theory]
    [InlineData(0L, 1)]
    [InlineData(199_999L, 1)]   // below twice the threshold: every value
    [InlineData(200_000L, 2)]
    [InlineData(399_999L, 2)]
    [InlineData(400_000L, 4)]
    [InlineData(3_100_000L, 16)] // 31 × the threshold: the power of two below
    [InlineData(6_400_000L, 64)]
    [InlineData(long.MaxValue / 2, 64)] // at most MaxWeight
    public void A_batch_weight_is_the_power_of_two_below_the_total_over_the_threshold(long total, int weight) =>
        Assert.Equal(weight, StreamingHistogram.WeightAfter(total, 100_000));

    [Fact]
    public void An_exact_histogram_never_samples() =>
        Assert.Equal(1, StreamingHistogram.WeightAfter(long.MaxValue - 1, long.MaxValue));

    /// <summary>The sampled batches keep the same blocks and bins on the vectorized path as on the scalar definition.</summary>
    [Fact]
    public void Sampled_vectorized_counts_equal_the_scalar_definition_bit_for_bit()
    {
        var random = new Random(5);
        var vectorized = new StreamingHistogram(64, exactValues: 20_000);
        var scalar = new StreamingHistogram(64, exactValues: 20_000);
        var weights = new HashSet<int>();
        for (int batch = 0; batch < 40; batch++)
        {
            // Lengths that end inside a block and inside a vector.
            float[] values = Enumerable.Range(0, 60_000 + (batch * 517)).Select(_ => random.Next(4) == 0 ? 0f : StreamingHistogramTests.Gaussian(random) * (1 + (batch % 5))).ToArray();
            values[random.Next(values.Length)] = float.NaN;
            float min = values.Where(float.IsFinite).Min(), max = values.Where(float.IsFinite).Max();
            vectorized.Add(values, min, max);
            scalar.AddScalar(values, min, max);
            weights.Add(vectorized.Weight);
            Assert.Equal(scalar.Weight, vectorized.Weight);
            Assert.Equal((scalar.Start, scalar.BinWidth, scalar.Total), (vectorized.Start, vectorized.BinWidth, vectorized.Total));
            Assert.Equal(scalar.Counts.ToArray(), vectorized.Counts.ToArray());
        }

        // Every weight up to the cap was exercised.
        Assert.Superset(new HashSet<int> { 1, 2, 4, 8, 16, 32, 64 }, weights);
    }

    /// <summary>
    /// Relu-like activations with rare large outliers, 12.6 M values, sampled past 2 × 2^18: the tails auto measures
    /// (the 99.9th to 99.999th percentile) and its choice of range are those of counting every value, and the total
    /// estimates the count: unbiased, with a standard deviation of 2.6 % here (about 2,300 blocks of 512 counted, with
    /// weights up to 32; at the default threshold of 2^24 each doubling counts 32,768 blocks, not 512).
    /// </summary>
    [Fact]
    public void A_sampled_histogram_gives_the_quantiles_and_range_choice_of_the_exact_one()
    {
        var random = new Random(17);
        var sampled = new TensorObserver("t", exactValues: 1 << 18);
        var exact = new TensorObserver("t", exactValues: long.MaxValue);
        float[] values = new float[256 * 1024];
        for (int batch = 0; batch < 48; batch++)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float g = StreamingHistogramTests.Gaussian(random);
                // Half zeros; one value in 2,000 twenty times larger than the rest, in a few channels (every 64th position).
                values[i] = g <= 0 ? 0f : (i % 64 == 5 && random.Next(30) == 0) ? g * 20 : g;
            }

            sampled.Observe(values, [values.Length]);
            exact.Observe(values, [values.Length]);
        }

        StreamingHistogram s = sampled.Histogram!, e = exact.Histogram!;
        Assert.True(s.Weight >= 16, $"weight {s.Weight}: the histogram was sampled");
        Assert.Equal(exact.Count, e.Total);
        Assert.InRange(s.Total, 0.9 * e.Total, 1.1 * e.Total);
        Assert.Equal((e.Start, e.BinWidth), (s.Start, s.BinWidth));
        // The bulk within 2 %; the tails within what the values counted in them allow: the 99.99th percentile lies among
        // about 400 of the 3,300 outliers counted with weights, the 99.999th among about 40.
        foreach ((double q, double tolerance) in new[] { (0.5, 0.02), (0.9, 0.02), (0.999, 0.03), (0.9999, 0.1), (0.99999, 0.25) })
        {
            double want = e.Quantile(q), got = s.Quantile(q);
            Assert.True(Math.Abs(got - want) <= Math.Max(tolerance * want, 2 * e.BinWidth), $"quantile {q}: sampled {got}, exact {want}");
        }

        RangeChoice fromSampled = RangeSelector.Choose(sampled), fromExact = RangeSelector.Choose(exact);
        Assert.Equal((fromExact.Method, fromExact.Percentile), (fromSampled.Method, fromSampled.Percentile));
        Assert.Equal(RangeMethod.Percentile, fromExact.Method); // the outliers make clipping pay: a real choice was compared
        Assert.InRange(fromSampled.Range.Max, 0.9 * fromExact.Range.Max, 1.1 * fromExact.Range.Max);
        Assert.Equal(fromExact.Range.Min, fromSampled.Range.Min);
    }
}
