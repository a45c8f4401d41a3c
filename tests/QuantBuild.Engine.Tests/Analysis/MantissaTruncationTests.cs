using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Analysis;

public sealed class MantissaTruncationTests
{
    [Theory]
    [InlineData(1.75f, 1, 2.0f)]            // 1.11b: a tie at 1 bit rounds to even (10.0b)
    [InlineData(1.25f, 1, 1.0f)]            // 1.01b: a tie at 1 bit rounds to even (1.0b)
    [InlineData(1.375f, 2, 1.5f)]           // 1.011b: a tie at 2 bits rounds to even (1.10b)
    [InlineData(-3.3f, 23, -3.3f)]          // 23 bits is the identity
    [InlineData(0.1f, 4, 0.1015625f)]       // 1.1001100…b · 2^-4 → 1.1010b · 2^-4
    public void Rounds_to_nearest_even_on_the_kept_bits(float value, int bits, float expected) =>
        Assert.Equal(expected, MantissaTruncation.Round(value, bits));

    [Fact]
    public void Leaves_non_finite_values_alone()
    {
        Assert.True(float.IsNaN(MantissaTruncation.Round(float.NaN, 3)));
        Assert.Equal(float.PositiveInfinity, MantissaTruncation.Round(float.PositiveInfinity, 3));
    }

    [Fact]
    public void Outlier_ratio_is_max_over_interpolated_99_9th_percentile()
    {
        var values = Enumerable.Range(1, 1000).Select(i => (float)i / 1000).ToArray();
        values[^1] = 50f;
        // |x| sorted: p99.9 at position 0.999·999 = 998.001 → between 0.999 and 50.
        double q = 0.999 + (50 - 0.999) * 0.001;
        Assert.Equal(50 / q, OutlierStatistics.Ratio(values), 1e-6);
        Assert.Equal(1.0, OutlierStatistics.Ratio(new float[] { 2, -2, 2, -2 }), 1e-12);
    }

    [Fact]
    public void Activation_ratio_from_the_histogram_sees_a_rare_outlier()
    {
        var observer = new TensorObserver("x");
        var values = Enumerable.Range(0, 100_000).Select(i => (float)Math.Sin(i)).ToArray();
        values[123] = 40f;
        observer.Observe(values, new long[] { values.Length });
        double ratio = OutlierStatistics.ActivationRatio(observer);
        Assert.InRange(ratio, 38, 42);
    }
}
