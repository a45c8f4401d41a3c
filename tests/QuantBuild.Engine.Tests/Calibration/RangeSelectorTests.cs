using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Calibration;

public class RangeSelectorTests
{
    private static TensorObserver GaussianWithOutliers(int samples = 200_000, float outlier = 60f)
    {
        var random = new Random(5);
        var observer = new TensorObserver("x");
        float[] values = new float[samples];
        for (int i = 0; i < samples; i++)
        {
            values[i] = StreamingHistogramTests.Gaussian(random);
        }

        // A handful of far outliers, as LayerNorm outputs and attention scores often have.
        values[10] = outlier;
        values[20] = -outlier;
        observer.Observe(values, new long[] { samples });
        return observer;
    }

    [Fact]
    public void MinMax_returns_exactly_what_was_seen()
    {
        TensorObserver o = GaussianWithOutliers();
        Assert.Equal(new TensorRange(-60f, 60f), RangeSelector.Select(o, RangeMethod.MinMax));
    }

    [Fact]
    public void Percentile_clips_rare_outliers_to_the_bulk_of_the_distribution()
    {
        TensorRange r = RangeSelector.Select(GaussianWithOutliers(), RangeMethod.Percentile, percentile: 99.9);
        // The 99.9th percentile of a standard normal is 3.09; histogram resolution is 120/2048.
        Assert.InRange(r.Max, 2.9f, 3.3f);
        Assert.InRange(r.Min, -3.3f, -2.9f);
    }

    [Fact]
    public void Entropy_clips_outliers_but_keeps_the_body()
    {
        TensorRange r = RangeSelector.Select(GaussianWithOutliers(), RangeMethod.Entropy, levels: 255);
        Assert.InRange(r.Max, 2.5f, 30f);
        Assert.InRange(r.Min, -30f, -2.5f);
    }

    [Fact]
    public void Mse_clips_outliers_and_beats_minmax_on_expected_error()
    {
        TensorObserver o = GaussianWithOutliers();
        TensorRange mse = RangeSelector.Select(o, RangeMethod.Mse, levels: 254, symmetric: true);
        Assert.True(mse.Max < 60f, $"expected clipping, got {mse}");
        Assert.True(ExpectedError(o, mse, 254) <= ExpectedError(o, new TensorRange(-60, 60), 254));
    }

    [Fact]
    public void Ranges_of_a_non_negative_tensor_stay_non_negative()
    {
        var observer = new TensorObserver("relu");
        var random = new Random(9);
        observer.Observe(Enumerable.Range(0, 10_000).Select(_ => (float)random.NextDouble() * 6).ToArray(), new long[] { 10_000 });
        foreach (RangeMethod method in Enum.GetValues<RangeMethod>())
        {
            TensorRange r = RangeSelector.Select(observer, method);
            Assert.True(r.Min >= 0f, $"{method}: {r}");
            Assert.True(r.Max > 4f, $"{method}: {r}");
        }
    }

    [Fact]
    public void Auto_clips_a_tensor_whose_minmax_range_outliers_dominate_at_the_least_error_percentile()
    {
        // Two outliers at ±60 among a million values: minmax's rounding error over the bulk (steps of 120/254) outweighs
        // what clipping the two costs. (Among 200 000 it would not: then the two clipped outliers dominate.)
        TensorObserver o = GaussianWithOutliers(samples: 1_000_000);
        RangeChoice choice = RangeSelector.Choose(o, levels: 254, symmetric: true);

        // Every candidate's error, measured independently of the selector.
        double minmax = ExpectedError(o, new TensorRange(o.Min, o.Max), 254);
        var candidates = RangeSelector.AutoPercentiles.Select(p => RangeSelector.Select(o, RangeMethod.Percentile, p, 254, true)).ToList();
        double chosen = ExpectedError(o, choice.Range, 254);

        Assert.Equal(RangeMethod.Percentile, choice.Method);
        Assert.True(chosen < minmax * RangeSelector.AutoMargin, $"chosen {choice.Method} error {chosen} vs minmax {minmax}");
        Assert.All(candidates, c => Assert.True(chosen <= ExpectedError(o, c, 254) * (1 + 1e-9), $"{c} has less error than the choice {choice.Range}"));
        Assert.True(choice.SqnrDb > choice.MinMaxSqnrDb + 0.9, $"{choice.SqnrDb} dB vs minmax {choice.MinMaxSqnrDb} dB");
        Assert.Equal(choice.Range, RangeSelector.Select(o, RangeMethod.Auto, levels: 254, symmetric: true));
    }

    [Fact]
    public void Auto_keeps_minmax_for_a_uniform_tensor_where_clipping_does_not_pay()
    {
        var observer = new TensorObserver("uniform");
        var random = new Random(11);
        observer.Observe(Enumerable.Range(0, 200_000).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray(), new long[] { 200_000 });
        RangeChoice choice = RangeSelector.Choose(observer, levels: 254, symmetric: true);

        double minmax = ExpectedError(observer, new TensorRange(observer.Min, observer.Max), 254);
        var candidates = RangeSelector.AutoPercentiles.Select(p => RangeSelector.Select(observer, RangeMethod.Percentile, p, 254, true)).ToList();

        // Measured: no clipped candidate cuts the error by the margin, so the full range stays.
        Assert.All(candidates, c => Assert.True(ExpectedError(observer, c, 254) >= minmax * RangeSelector.AutoMargin, $"{c} would have been chosen"));
        Assert.Equal(RangeMethod.MinMax, choice.Method);
        Assert.Equal(new TensorRange(observer.Min, observer.Max), choice.Range);
        Assert.Equal(choice.MinMaxSqnrDb, choice.SqnrDb);
    }

    private static double ExpectedError(TensorObserver o, TensorRange r, int levels)
    {
        double a = Math.Max(-r.Min, r.Max);
        double scale = 2 * a / levels;
        double error = 0;
        StreamingHistogram h = o.RequireHistogram("the test");
        for (int i = 0; i < h.Bins; i++)
        {
            double x = h.Start + (i + 0.5) * h.BinWidth;
            double q = Math.Clamp(Math.Round(x / scale), -levels / 2, levels / 2) * scale;
            error += h.Counts[i] * (q - x) * (q - x);
        }

        return error;
    }
}
