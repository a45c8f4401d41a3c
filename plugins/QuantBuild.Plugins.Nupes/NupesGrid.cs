namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// The NUPES grid for b bits and exponent a: a weight w with scale s is coded q = round(sign(w)·|w/s|^a·qmax),
/// qmax = 2^(b−1)−1, and decoded sign(q)·|q/qmax|^(1/a)·s. a = 1 is the uniform symmetric grid; a &lt; 1 packs the
/// levels near zero, where bell-shaped weights live. Codes are stored as the index q + qmax in [0, 2^b − 2].
/// </summary>
internal static class NupesGrid
{
    /// <summary>The largest |q| for <paramref name="bits"/>.</summary>
    public static int QMax(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>q for one weight: round half away from zero in the exponent's domain, clipped to ±qmax.</summary>
    public static int Quantize(float w, float scale, double exponent, int qMax)
    {
        if (!(scale > 0) || w == 0)
        {
            return 0;
        }

        double x = Math.Min(Math.Abs((double)w / scale), 1.0);
        double t = (exponent == 1.0 ? x : Math.Pow(x, exponent)) * qMax;
        int q = Math.Min((int)Math.Round(t, MidpointRounding.AwayFromZero), qMax);
        return w < 0 ? -q : q;
    }

    /// <summary>
    /// The 2^b grid values by code index: lut[q + qmax] = sign(q)·|q/qmax|^(1/a), computed in double and rounded once
    /// to float; the one spare index (2^b − 1) decodes to 0. Ascending over 0..2·qmax.
    /// </summary>
    public static float[] Lut(int bits, double exponent)
    {
        int qMax = QMax(bits);
        var lut = new float[1 << bits];
        for (int q = -qMax; q <= qMax; q++)
        {
            double m = Math.Abs(q) / (double)qMax;
            double v = exponent == 1.0 ? m : Math.Pow(m, 1.0 / exponent);
            lut[q + qMax] = (float)(q < 0 ? -v : v);
        }

        return lut;
    }

    /// <summary>The decoded weight exactly as the decode subgraph computes it: one float multiply.</summary>
    public static float Decode(int index, float[] lut, float scale) => lut[index] * scale;

    /// <summary>The index (0..2·qmax) of the decoded grid value nearest <paramref name="w"/>.</summary>
    public static int Nearest(float[] lut, int qMax, float w, float scale)
    {
        int lo = 0, hi = 2 * qMax;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (lut[mid] * scale <= w)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        float dLo = Math.Abs(w - lut[lo] * scale), dHi = Math.Abs(lut[hi] * scale - w);
        return dHi < dLo ? hi : lo;
    }
}
