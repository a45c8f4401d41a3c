using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Calibration;

/// <summary>Chooses the range an activation's integer grid covers from what a <see cref="TensorObserver"/> saw.</summary>
public static class RangeSelector
{
    /// <summary>
    /// The range for <paramref name="observer"/> by <paramref name="method"/>. <paramref name="levels"/> is the
    /// number of integer steps of the target grid (255 for 8 bits); <paramref name="symmetric"/> says whether the
    /// grid is centred on zero, which changes what clipping costs.
    /// </summary>
    public static TensorRange Select(TensorObserver observer, RangeMethod method, double percentile = 99.99, int levels = 255, bool symmetric = false)
    {
        if (observer.NaNCount > 0 || (observer.Count > 0 && !float.IsFinite(observer.Min)))
        {
            // NaN in the data or the activations, or values none of which is finite: any range chosen from the
            // rest would ship a model calibrated on nothing (all-NaN data once shipped at 54.75 % for 91.90 %).
            throw Quantization.QuantizationErrors.RangeNotFinite(observer.Name, observer.Min, observer.Max);
        }

        if (!float.IsFinite(observer.Min))
        {
            // Nothing finite was seen (an unused branch, an empty tensor): a tiny range keeps the scale valid.
            return new TensorRange(0f, 0f);
        }

        var full = new TensorRange(observer.Min, observer.Max);
        return method switch
        {
            RangeMethod.MinMax => full,
            RangeMethod.Percentile => PercentileRange(observer, percentile),
            RangeMethod.Entropy => EntropyRange(observer, levels),
            RangeMethod.Mse => MseRange(observer, levels, symmetric),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    private static TensorRange PercentileRange(TensorObserver o, double percentile)
    {
        double upper = Math.Clamp(percentile / 100.0, 0.5, 1.0);
        StreamingHistogram h = o.RequireHistogram("the percentile method");
        float min = o.Min >= 0 ? o.Min : (float)Math.Max(o.Min, h.Quantile(1 - upper));
        float max = o.Max <= 0 ? o.Max : (float)Math.Min(o.Max, h.Quantile(upper));
        return new TensorRange(min, max);
    }

    private static TensorRange EntropyRange(TensorObserver o, int levels)
    {
        // Fold the distribution onto |x|, then pick the threshold t whose clipped-and-quantized distribution
        // loses least information (KL divergence), the method TensorRT popularised for int8 calibration.
        float absMax = Math.Max(Math.Abs(o.Min), Math.Abs(o.Max));
        if (absMax == 0)
        {
            return new TensorRange(0, 0);
        }

        const int Bins = 2048;
        double[] folded = Fold(o.RequireHistogram("the entropy method"), absMax, Bins);
        bool oneSided = o.Min >= 0 || o.Max <= 0;
        int quantBins = oneSided ? levels : (levels + 1) / 2;
        int best = Bins;
        double bestDivergence = double.PositiveInfinity;
        var p = new double[Bins];
        var q = new double[Bins];
        for (int i = quantBins; i <= Bins; i += 8)
        {
            double divergence = ClippedDivergence(folded, i, quantBins, p, q);
            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                best = i;
            }
        }

        float t = (float)(absMax * best / Bins);
        return new TensorRange(Math.Max(o.Min, -t), Math.Min(o.Max, t));
    }

    private static double[] Fold(StreamingHistogram h, float absMax, int bins)
    {
        var folded = new double[bins];
        ReadOnlySpan<long> counts = h.Counts;
        double scale = bins / (double)absMax;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            double centre = Math.Abs(h.Start + (i + 0.5) * h.BinWidth);
            int bin = Math.Min(bins - 1, (int)(centre * scale));
            folded[bin] += counts[i];
        }

        return folded;
    }

    private static double ClippedDivergence(double[] hist, int threshold, int quantBins, double[] p, double[] q)
    {
        // P: the distribution clipped at the threshold, the tail folded into the last kept bin.
        double outliers = 0;
        for (int j = threshold; j < hist.Length; j++)
        {
            outliers += hist[j];
        }

        Array.Copy(hist, p, threshold);
        p[threshold - 1] += outliers;

        // Q: the kept bins merged into quantBins groups, each group's mass spread over its non-empty bins.
        Array.Clear(q, 0, threshold);
        double perGroup = threshold / (double)quantBins;
        for (int g = 0; g < quantBins; g++)
        {
            int from = (int)Math.Floor(g * perGroup);
            int to = g == quantBins - 1 ? threshold : (int)Math.Floor((g + 1) * perGroup);
            double mass = 0;
            int nonEmpty = 0;
            for (int j = from; j < to; j++)
            {
                mass += hist[j];
                if (hist[j] > 0)
                {
                    nonEmpty++;
                }
            }

            if (nonEmpty == 0)
            {
                continue;
            }

            double share = mass / nonEmpty;
            for (int j = from; j < to; j++)
            {
                if (hist[j] > 0)
                {
                    q[j] = share;
                }
            }
        }

        double pTotal = 0, qTotal = 0;
        for (int j = 0; j < threshold; j++)
        {
            pTotal += p[j];
            qTotal += q[j];
        }

        if (pTotal == 0 || qTotal == 0)
        {
            return double.PositiveInfinity;
        }

        double divergence = 0;
        for (int j = 0; j < threshold; j++)
        {
            if (p[j] <= 0)
            {
                continue;
            }

            double pj = p[j] / pTotal;
            // The tail folded into the last bin may leave Q empty there; a small floor keeps the divergence finite.
            double qj = Math.Max(q[j] / qTotal, 1e-12);
            divergence += pj * Math.Log(pj / qj);
        }

        return divergence;
    }

    private static TensorRange MseRange(TensorObserver o, int levels, bool symmetric)
    {
        // Shrink the full range step by step; for each candidate, the expected squared error of quantizing every
        // histogram bin's centre (rounding inside, clipping outside) weighted by its count.
        StreamingHistogram h = o.RequireHistogram("the mse method");
        ReadOnlySpan<long> counts = h.Counts;
        TensorRange bestRange = new(o.Min, o.Max);
        double bestError = double.PositiveInfinity;
        for (int step = 100; step >= 5; step--)
        {
            double f = step / 100.0;
            double lo = Math.Min(0, o.Min * f);
            double hi = Math.Max(0, o.Max * f);
            if (symmetric)
            {
                double a = Math.Max(-lo, hi);
                lo = -a;
                hi = a;
            }

            double scale = (hi - lo) / levels;
            if (scale <= 0)
            {
                continue;
            }

            double zero = Math.Round(-lo / scale);
            double error = 0;
            for (int i = 0; i < counts.Length; i++)
            {
                if (counts[i] == 0)
                {
                    continue;
                }

                double x = h.Start + (i + 0.5) * h.BinWidth;
                double qv = Math.Clamp(Math.Round(x / scale) + zero, 0, levels);
                double d = (qv - zero) * scale - x;
                error += counts[i] * d * d;
            }

            if (error < bestError)
            {
                bestError = error;
                bestRange = new TensorRange((float)Math.Max(o.Min, lo), (float)Math.Min(o.Max, hi));
            }
        }

        return bestRange;
    }
}
