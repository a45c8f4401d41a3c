namespace QuantBuild.Engine.Calibration;

/// <summary>
/// A histogram over a range that is not known in advance, built in one pass with fixed memory. The range grows
/// by doubling the bin width and merging adjacent bins, which is exact: no count ever moves to the wrong bin.
/// </summary>
public sealed class StreamingHistogram
{
    private readonly long[] _counts;
    private double _start;
    private double _width;
    private bool _initialised;

    /// <summary>Creates an empty histogram with <paramref name="bins"/> bins (even, at least 2).</summary>
    public StreamingHistogram(int bins = 2048)
    {
        if (bins < 2 || bins % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), "Bin count must be even and at least 2.");
        }

        _counts = new long[bins];
    }

    /// <summary>Number of bins.</summary>
    public int Bins => _counts.Length;

    /// <summary>Lower edge of the first bin.</summary>
    public double Start => _start;

    /// <summary>Width of every bin.</summary>
    public double BinWidth => _width;

    /// <summary>Upper edge of the last bin.</summary>
    public double End => _start + _width * _counts.Length;

    /// <summary>Total values added.</summary>
    public long Total { get; private set; }

    /// <summary>The counts, bin by bin.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Adds every finite value of <paramref name="values"/>, whose range is [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(ReadOnlySpan<float> values, float min, float max)
    {
        // Non-finite bounds mean the caller saw no finite value: nothing to bin.
        if (values.IsEmpty || !float.IsFinite(min) || !float.IsFinite(max))
        {
            return;
        }

        EnsureCovers(min, max);
        double inverse = 1.0 / _width;
        int last = _counts.Length - 1;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                continue;
            }

            int bin = (int)((v - _start) * inverse);
            _counts[bin < 0 ? 0 : bin > last ? last : bin]++;
            Total++;
        }
    }

    /// <summary>The value below which <paramref name="fraction"/> of all values lie, interpolated inside a bin.</summary>
    public double Quantile(double fraction)
    {
        if (Total == 0)
        {
            return 0;
        }

        double target = Math.Clamp(fraction, 0, 1) * Total;
        double cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            long c = _counts[i];
            if (c > 0 && cumulative + c >= target)
            {
                double within = (target - cumulative) / c;
                return _start + (i + within) * _width;
            }

            cumulative += c;
        }

        return End;
    }

    private void EnsureCovers(float min, float max)
    {
        if (!_initialised)
        {
            // Start a little wider than the first batch so a slightly larger later value does not force a merge at once.
            double span = Math.Max(max - min, 1e-6);
            _start = min;
            _width = span * 1.0001 / _counts.Length;
            _initialised = true;
        }

        while (min < _start)
        {
            GrowLeft();
        }

        while (max >= End)
        {
            GrowRight();
        }
    }

    private void GrowRight()
    {
        // New range [start, start + 2·B·w): old bin i lands in new bin i/2.
        int half = _counts.Length / 2;
        for (int i = 0; i < half; i++)
        {
            _counts[i] = _counts[2 * i] + _counts[2 * i + 1];
        }

        Array.Clear(_counts, half, half);
        _width *= 2;
    }

    private void GrowLeft()
    {
        // New range [start − B·w, start + B·w): old bin i lands in new bin B/2 + i/2.
        int half = _counts.Length / 2;
        for (int i = half - 1; i >= 0; i--)
        {
            _counts[half + i] = _counts[2 * i] + _counts[2 * i + 1];
        }

        Array.Clear(_counts, 0, half);
        _start -= _width * _counts.Length;
        _width *= 2;
    }
}
