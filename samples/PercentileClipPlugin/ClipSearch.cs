namespace PercentileClipPlugin;

/// <summary>The search itself: for one channel, the clipping ratio whose symmetric grid reconstructs the weights with the least squared error.</summary>
public static class ClipSearch
{
    /// <summary>Chooses the scale for <paramref name="channel"/> and writes its integer codes.</summary>
    /// <returns>The scale and the squared error it leaves.</returns>
    public static (float Scale, double Error) Best(ReadOnlySpan<float> channel, int qMax, double minRatio, int steps, Span<int> codes)
    {
        float absMax = 0;
        foreach (float w in channel)
        {
            absMax = Math.Max(absMax, Math.Abs(w));
        }

        if (absMax == 0)
        {
            codes.Clear();
            return (1f, 0);
        }

        float bestScale = absMax / qMax;
        double bestError = double.PositiveInfinity;
        for (int s = 0; s < steps; s++)
        {
            // From no clipping (ratio 1) down to minRatio: ties keep the wider range.
            double ratio = 1.0 - (1.0 - minRatio) * s / (steps - 1);
            float scale = (float)(absMax * ratio / qMax);
            double error = SquaredError(channel, scale, qMax);
            if (error < bestError)
            {
                (bestScale, bestError) = (scale, error);
            }
        }

        for (int i = 0; i < channel.Length; i++)
        {
            codes[i] = Code(channel[i], bestScale, qMax);
        }

        return (bestScale, bestError);
    }

    /// <summary>The error of round-to-nearest on a grid of step <paramref name="scale"/>, clipped to ±<paramref name="qMax"/>.</summary>
    public static double SquaredError(ReadOnlySpan<float> channel, float scale, int qMax)
    {
        double error = 0;
        foreach (float w in channel)
        {
            double d = Code(w, scale, qMax) * (double)scale - w;
            error += d * d;
        }

        return error;
    }

    private static int Code(float w, float scale, int qMax) =>
        (int)Math.Clamp(MathF.Round(w / scale, MidpointRounding.ToEven), -qMax, qMax);
}
