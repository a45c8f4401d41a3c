using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>
/// Once a histogram holds <see cref="StreamingHistogram.ExactValues"/> values, an observer samples the body of later
/// batches (one run of eight values in 64, weighted eight) and still counts zeros and both 1 % tails one by one.
/// Compared here with the exact histogram of the same batches (same ranges, so the same bins).
/// </summary>
public class SampledHistogramTests
{
    // Relu-like batches (a third zeros, the rest a heavy-tailed positive spread with rare outliers) or signed ones.
    private static List<float[]> Batches(bool relu, int seed, int count = 24)
    {
        var random = new Random(seed);
        var batches = new List<float[]>();
        for (int b = 0; b < count; b++)
        {
            var values = new float[200_003];
            for (int i = 0; i < values.Length; i++)
            {
                double g = StreamingHistogramTests.Gaussian(random);
                values[i] = relu
                    ? (random.Next(3) == 0 ? 0f : (float)(Math.Abs(g) * (random.Next(1000) == 0 ? 6 : 1)))
                    : (float)((g * (random.Next(1000) == 0 ? 5 : 1)) + 0.5);
            }

            batches.Add(values);
        }

        return batches;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tails_and_zeros_stay_exact_and_the_body_is_estimated_closely(bool relu)
    {
        var observer = new TensorObserver("x");
        var exact = new StreamingHistogram();
        int sampled = 0;
        List<float[]> batches = Batches(relu, relu ? 1 : 2);
        foreach (float[] values in batches)
        {
            observer.Observe(values, [values.Length]);
            sampled += observer.Body is null ? 0 : 1;
            exact.Add(values, values.Min(), values.Max());
        }

        StreamingHistogram h = observer.Histogram!;
        // Six batches (1.2 M values) are counted one by one before the histogram holds ExactValues; the 18 after are sampled.
        Assert.Equal(24 - 6, sampled);
        Assert.Equal((exact.Start, exact.BinWidth), (h.Start, h.BinWidth));
        Assert.InRange(h.Total, exact.Total * 0.995, exact.Total * 1.005);

        // Every bin above the exact 99.5th percentile (and below the 0.5th) was a tail bin in every batch: exact counts.
        int upper = (int)((exact.Quantile(0.995) - exact.Start) / exact.BinWidth) + 1;
        int lower = (int)((exact.Quantile(0.005) - exact.Start) / exact.BinWidth) - 1;
        Assert.True(exact.Counts[upper..].ToArray().Sum() > 1000);
        Assert.Equal(exact.Counts[upper..].ToArray(), h.Counts[upper..].ToArray());
        if (lower >= 0)
        {
            Assert.True(exact.Counts[..(lower + 1)].ToArray().Sum() > 1000);
            Assert.Equal(exact.Counts[..(lower + 1)].ToArray(), h.Counts[..(lower + 1)].ToArray());
        }

        // What the range methods read: the clipping percentiles within a tenth of a bin, the squared error within 1 %.
        foreach (double q in new[] { 0.999, 0.9999, 0.99999, 0.001 })
        {
            Assert.InRange(h.Quantile(q), exact.Quantile(q) - (exact.BinWidth / 10), exact.Quantile(q) + (exact.BinWidth / 10));
        }

        double full = RangeSelector.SquaredError(exact, observer.Min, observer.Max);
        Assert.InRange(RangeSelector.SquaredError(h, observer.Min, observer.Max), full * 0.99, full * 1.01);
        if (relu)
        {
            // Zeros are counted one by one: the zero bin holds every zero, plus an estimate of the few small values beside them.
            long zeros = batches.Sum(v => (long)v.Count(x => x == 0));
            Assert.InRange(h.Counts[0], zeros, exact.Counts[0] + ((exact.Counts[0] - zeros) / 2));
        }
    }

    [Fact]
    public void A_young_histogram_samples_nothing_and_equals_the_exact_one()
    {
        var observer = new TensorObserver("x");
        var exact = new StreamingHistogram();
        foreach (float[] values in Batches(true, 3, 5))
        {
            observer.Observe(values, [values.Length]);
            Assert.Null(observer.Body);
            exact.Add(values, values.Min(), values.Max());
        }

        Assert.Equal(exact.Counts.ToArray(), observer.Histogram!.Counts.ToArray());
        Assert.Equal(exact.Total, observer.Histogram.Total);
    }
}
