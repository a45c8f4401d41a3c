using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// Outlier ratios: max|x| / percentile-99.9 of |x|. A ratio near 1 means the largest value is typical and an integer
/// grid spanning it wastes little; a ratio of 10 means nine tenths of the grid serve one value in a thousand.
/// </summary>
public static class OutlierStatistics
{
    /// <summary>The percentile the ratio divides by.</summary>
    public const double Percentile = 99.9;

    /// <summary>
    /// The ratio of one set of values, with the percentile interpolated linearly between order statistics (NumPy's
    /// default): q = |x|sorted[p·(n−1)]. 1 for a set of zeros.
    /// </summary>
    public static double Ratio(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return 1;
        }

        var abs = new float[values.Length];
        for (int i = 0; i < abs.Length; i++)
        {
            abs[i] = Math.Abs(values[i]);
        }

        Array.Sort(abs);
        double position = Percentile / 100 * (abs.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, abs.Length - 1);
        double q = abs[lower] + (abs[upper] - abs[lower]) * (position - lower);
        double max = abs[^1];
        return q > 0 ? max / q : max > 0 ? double.PositiveInfinity : 1;
    }

    /// <summary>
    /// Per output channel of a weight with <paramref name="dims"/>, channel axis <paramref name="axis"/>: the ratio of each
    /// channel's values.
    /// </summary>
    public static double[] ChannelRatios(ReadOnlySpan<float> weight, long[] dims, int axis)
    {
        int channels = (int)dims[axis];
        long inner = 1;
        for (int i = axis + 1; i < dims.Length; i++)
        {
            inner *= dims[i];
        }

        long outer = weight.Length / (channels * inner);
        var ratios = new double[channels];
        var slice = new float[outer * inner];
        for (int c = 0; c < channels; c++)
        {
            int k = 0;
            for (long o = 0; o < outer; o++)
            {
                weight.Slice((int)((o * channels + c) * inner), (int)inner).CopyTo(slice.AsSpan(k, (int)inner));
                k += (int)inner;
            }

            ratios[c] = Ratio(slice);
        }

        return ratios;
    }

    /// <summary>
    /// The ratio of an activation from calibration's histogram of signed values: |x| quantiles come from folding the
    /// bins around zero, so the percentile is good to one bin width.
    /// </summary>
    public static double ActivationRatio(TensorObserver observer)
    {
        StreamingHistogram h = observer.RequireHistogram("the outlier ratio");
        double max = Math.Max(Math.Abs(observer.Min), Math.Abs(observer.Max));
        if (h.Total == 0 || !double.IsFinite(max))
        {
            return 1;
        }

        ReadOnlySpan<long> counts = h.Counts;
        var bins = new (double Abs, long Count)[counts.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            bins[i] = (Math.Abs(h.Start + (i + 0.5) * h.BinWidth), counts[i]);
        }

        Array.Sort(bins, (a, b) => a.Abs.CompareTo(b.Abs));
        double target = Percentile / 100 * h.Total;
        double cumulative = 0;
        double q = max;
        foreach ((double abs, long count) in bins)
        {
            cumulative += count;
            if (count > 0 && cumulative >= target)
            {
                q = Math.Min(abs, max);
                break;
            }
        }

        return q > 0 ? max / q : max > 0 ? double.PositiveInfinity : 1;
    }

    /// <summary>The median of <paramref name="values"/> (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
