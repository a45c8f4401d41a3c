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
