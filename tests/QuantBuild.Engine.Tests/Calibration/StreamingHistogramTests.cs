using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

public class StreamingHistogramTests
{
    [Fact]
    public void Growing_the_range_in_both_directions_keeps_every_count()
    {
        var h = new StreamingHistogram(64);
        var random = new Random(7);
        long added = 0;
        // Each batch is wider than the last, on alternating sides, forcing repeated left and right growth.
        for (int batch = 1; batch <= 12; batch++)
        {
            float[] values = new float[500];
            float reach = MathF.Pow(2, batch);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() * reach * (batch % 2 == 0 ? 1 : -1));
            }

            h.Add(values, values.Min(), values.Max());
            added += values.Length;
            Assert.Equal(added, h.Total);
            Assert.Equal(added, Sum(h.Counts));
            Assert.True(h.Start <= values.Min() && h.End > values.Max());
        }
    }

    [Fact]
    public void Quantiles_match_the_sorted_data_within_one_bin()
    {
        var random = new Random(11);
        var all = new List<float>();
        var h = new StreamingHistogram(2048);
        for (int batch = 0; batch < 20; batch++)
        {
            float[] values = Enumerable.Range(0, 1000).Select(_ => Gaussian(random) * (1 + batch * 0.1f)).ToArray();
            h.Add(values, values.Min(), values.Max());
            all.AddRange(values);
        }

        all.Sort();
        foreach (double q in new[] { 0.001, 0.1, 0.5, 0.9, 0.999 })
        {
            float exact = all[(int)(q * (all.Count - 1))];
            Assert.InRange(h.Quantile(q), exact - 2 * h.BinWidth, exact + 2 * h.BinWidth);
        }
    }

    [Fact]
    public void Non_finite_values_are_not_counted()
    {
        var h = new StreamingHistogram(16);
        h.Add(new[] { 1f, float.NaN, 2f, float.PositiveInfinity }, 1f, 2f);
        Assert.Equal(2, h.Total);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2048)]
    public void Vectorized_bins_equal_the_scalar_definition_bit_for_bit_on_random_data_with_edges_zeros_and_non_finite_values(int bins)
    {
        var random = new Random(bins);
        var vectorized = new StreamingHistogram(bins);
        var scalar = new StreamingHistogram(bins);
        int threshold = 4 * bins; // the vectorized path's minimum; below it both take the scalar one
        int[] lengths = [threshold - 1, threshold, threshold + 1, threshold + 7, 3 * threshold + 5, 5 * threshold + 8, 100, 9];
        for (int batch = 0; batch < 24; batch++)
        {
            int length = lengths[batch % lengths.Length];
            float scale = MathF.Pow(2, (batch % 9) - 3) * (batch % 4 == 0 ? 7.3f : 1f);
            float[] values = new float[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = random.Next(6) switch
                {
                    0 => 0f, // a Relu's zeros: long runs of the same bin
                    1 => -0f,
                    _ => Gaussian(random) * scale + (batch % 3 == 0 ? scale : 0f),
                };
            }

            if (batch % 2 == 1 && vectorized.Total > 0)
            {
                // Values on (and one float either side of) the current bin edges, where rounding decides the bin.
                for (int i = 0; i < length / 3; i++)
                {
                    double edge = vectorized.Start + (random.Next(bins + 1) * vectorized.BinWidth);
                    float v = (float)edge;
                    values[random.Next(length)] = random.Next(3) switch { 0 => v, 1 => MathF.BitIncrement(v), _ => MathF.BitDecrement(v) };
                }
            }

            float min = values.Min(), max = values.Max();
            int nonFinite = batch % 3 == 2 ? 1 + random.Next(20) : 0;
            for (int i = 0; i < nonFinite; i++)
            {
                values[random.Next(length)] = random.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
            }

            if (batch == 20)
            {
                // Bounds narrower than the data: both clamp to the first and last bin.
                (min, max) = (min / 2, max / 2);
            }

            vectorized.Add(values, min, max);
            scalar.AddScalar(values, min, max);

            Assert.Equal(scalar.Start, vectorized.Start);
            Assert.Equal(scalar.BinWidth, vectorized.BinWidth);
            Assert.Equal(scalar.Total, vectorized.Total);
            Assert.Equal(scalar.Counts.ToArray(), vectorized.Counts.ToArray());
        }

        // The comparison was not between two trivial histograms: many values, spread over many bins.
        Assert.True(vectorized.Total > 20 * threshold, $"{vectorized.Total} values");
        Assert.True(vectorized.Counts.ToArray().Count(c => c > 0) > bins / 8, $"{vectorized.Counts.ToArray().Count(c => c > 0)} bins used");
    }

    /// <summary>
    /// The vectorized path counts the values falling in the bin of 0 without listing them (AVX-512); when 0 lies outside
    /// the range that bin is the first or the last (clamped), which then holds the values clamped there too.
    /// </summary>
    [Theory]
    [InlineData(5f, 10f)]   // all positive: 0 would clamp to the first bin
    [InlineData(-10f, -5f)] // all negative: to the last
    [InlineData(-1f, 3f)]   // 0 inside
    public void Values_in_the_bin_of_zero_are_counted_like_the_scalar_definition_wherever_zero_falls(float low, float high)
    {
        var random = new Random(31);
        var vectorized = new StreamingHistogram(256);
        var scalar = new StreamingHistogram(256);
        for (int batch = 0; batch < 6; batch++)
        {
            float[] values = new float[4 * 256 * 3 + 5];
            for (int i = 0; i < values.Length; i++)
            {
                // A third of the values on the bound nearest 0 (a run in one bin), the rest spread over the range.
                values[i] = random.Next(3) == 0 ? (low > 0 ? low : high < 0 ? high : 0f) : low + ((float)random.NextDouble() * (high - low));
            }

            // The last batch's bounds are narrower than its values: both paths clamp.
            float min = batch == 5 ? low + 1 : values.Min(), max = batch == 5 ? high - 1 : values.Max();
            vectorized.Add(values, min, max);
            scalar.AddScalar(values, min, max);

            Assert.Equal(scalar.Start, vectorized.Start);
            Assert.Equal(scalar.BinWidth, vectorized.BinWidth);
            Assert.Equal(scalar.Counts.ToArray(), vectorized.Counts.ToArray());
        }

        Assert.Equal(6L * (4 * 256 * 3 + 5), vectorized.Total);
    }

    [Fact]
    public void Vectorized_path_skips_nan_and_infinities_like_the_scalar_one()
    {
        float[] values = Enumerable.Range(0, 4 * 16 * 3 + 3).Select(i => (float)(i % 10)).ToArray();
        values[0] = float.NaN;
        values[17] = float.PositiveInfinity;
        values[64] = float.NegativeInfinity;
        values[^1] = float.NaN; // in the scalar tail
        var h = new StreamingHistogram(16);

        h.Add(values, 0f, 9f);

        Assert.Equal(values.Length - 4, h.Total);
        Assert.Equal(values.Length - 4, Sum(h.Counts));
    }

    /// <summary>
    /// The single-precision binning's promise (<see cref="StreamingHistogram.SingleBinning"/>): wherever it is allowed,
    /// the float x of a value is within half its <c>Delta</c> of the double x that defines the bin, so a value farther
    /// than <c>Delta</c> from an edge is binned the same. Checked on ranges starting at 0 (a Relu's), at a float, at a
    /// double no float equals (a range grown to the left), far from and near zero, on values across and around them.
    /// </summary>
    [Fact]
    public void Single_precision_bin_positions_stay_within_their_stated_distance_of_the_double_ones()
    {
        var random = new Random(7);
        int fast = 0;
        foreach (int bins in new[] { 64, 2048 })
        {
            for (int range = 0; range < 200; range++)
            {
                double span = Math.Pow(10, (random.NextDouble() * 8) - 4);
                double start = (range % 4) switch
                {
                    0 => 0.0,
                    1 => (float)((random.NextDouble() - 0.5) * span * 4),
                    2 => ((random.NextDouble() - 0.5) * span * 4) + (span * 1e-9), // no float equals it
                    _ => (random.NextDouble() - 0.5) * span * 5000, // far from zero in units of the range
                };
                double width = span * 1.0001 / bins, inverse = 1.0 / width;
                StreamingHistogram.SingleBinning single = StreamingHistogram.SingleBinning.For(start, inverse, bins);
                if (!single.Fast)
                {
                    continue;
                }

                fast++;
                double allowed = (single.Delta - (1.0 / (1 << 24))) / 2;
                for (int i = 0; i < 2000; i++)
                {
                    float v = (float)(start + ((random.NextDouble() * (bins + 8) - 4) * width));
                    float xSingle = (v - single.Start) * single.Inverse;
                    double xDouble = (v - start) * inverse;
                    Assert.True(Math.Abs(xSingle - xDouble) <= allowed, $"start {start:R}, width {width:R}, v {v:R}: {xSingle:R} vs {xDouble:R}, allowed {allowed:R}");
                }
            }
        }

        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            // Every range starting at 0 or at a float near the data is allowed; most far ones are not.
            Assert.True(fast >= 200, $"{fast} of 400 ranges binned in single precision");
            // A start no float equals, far from zero in units of its bins (1000.1 with bins of 0.5 µ): the float start alone is 60 bins off.
            Assert.False(StreamingHistogram.SingleBinning.For(1000.1, 2048 / 1e-3, 2048).Fast);
        }
    }

    /// <summary>
    /// A batch made only of values on a bin edge or one float either side of it, the values single precision cannot
    /// place by itself, binned by the vectorized path (single precision where allowed) and by the scalar definition:
    /// the same counts, on a range starting at 0, at a float, and at a double no float equals.
    /// </summary>
    [Theory]
    [InlineData(0f, 6f, false)]
    [InlineData(-3.7f, 2.2f, false)]
    [InlineData(0.5f, 6f, true)] // a second batch reaching below the start grows the range to the left: start no longer a float
    public void Values_on_and_beside_every_bin_edge_are_binned_like_the_scalar_definition(float low, float high, bool growLeft)
    {
        const int Bins = 256;
        var random = new Random(11);
        var vectorized = new StreamingHistogram(Bins);
        var scalar = new StreamingHistogram(Bins);
        float[] first = Enumerable.Range(0, 4 * Bins * 2).Select(i => low + ((high - low) * i / (4f * Bins * 2 - 1))).ToArray();
        vectorized.Add(first, low, high);
        scalar.AddScalar(first, low, high);
        if (growLeft)
        {
            float[] below = first.Select(v => v - 3f).ToArray();
            vectorized.Add(below, low - 3f, high - 3f);
            scalar.AddScalar(below, low - 3f, high - 3f);
            Assert.NotEqual((double)(float)vectorized.Start, vectorized.Start);
        }

        // For each edge k, the last float whose double x is below k, or the first whose x is not: the pair the bin
        // changes between, which single precision rounds to either side. One side per batch, so a value moved up
        // cannot hide one moved down.
        double start = vectorized.Start, inverse = 1.0 / vectorized.BinWidth;
        foreach (bool above in new[] { false, true })
        {
            float[] edges = new float[4 * Bins * 6 + 8];
            for (int i = 0; i < edges.Length; i++)
            {
                int k = random.Next(1, Bins);
                float v = (float)(start + (k * vectorized.BinWidth));
                while ((v - start) * inverse >= k)
                {
                    v = MathF.BitDecrement(v);
                }

                while ((MathF.BitIncrement(v) - start) * inverse < k)
                {
                    v = MathF.BitIncrement(v);
                }

                edges[i] = above ? MathF.BitIncrement(v) : v;
            }

            // Bounds the histogram covers already, so neither grows it again.
            float min = (float)vectorized.Start, max = (float)(vectorized.Start + (vectorized.BinWidth * (Bins - 1)));
            vectorized.Add(edges, min, max);
            scalar.AddScalar(edges, min, max);

            Assert.Equal(scalar.Start, vectorized.Start);
            Assert.Equal(scalar.BinWidth, vectorized.BinWidth);
            Assert.Equal(scalar.Counts.ToArray(), vectorized.Counts.ToArray());
        }

        if (System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
        {
            Assert.True(StreamingHistogram.SingleBinning.For(vectorized.Start, 1.0 / vectorized.BinWidth, Bins).Fast, "the batch was binned in single precision");
        }
    }

    internal static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private static long Sum(ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (long c in counts)
        {
            total += c;
        }

        return total;
    }
}
