namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>Random layers and inputs with a fixed seed.</summary>
internal static class TestData
{
    public static float[] Gaussian(Random rng, long count, float scale = 1f)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return v;
    }

    /// <summary>Realistic inputs: correlated (a random mixing of fewer latent factors) and rectified, like post-ReLU activations.</summary>
    public static float[] CorrelatedRelu(Random rng, int n, int k)
    {
        int latent = Math.Max(2, k / 3);
        float[] z = Gaussian(rng, (long)n * latent);
        float[] mix = Gaussian(rng, (long)latent * k, 1f / MathF.Sqrt(latent));
        var x = new float[(long)n * k];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < k; j++)
            {
                float s = 0.3f;
                for (int l = 0; l < latent; l++)
                {
                    s += z[(long)r * latent + l] * mix[(long)l * k + j];
                }

                x[(long)r * k + j] = Math.Max(0f, s);
            }
        }

        return x;
    }

    /// <summary>Σ over rows and outputs of (W·x − Ŵ·x + b − b̂)² computed directly, sample by sample.</summary>
    public static double DirectError(float[] x, float[] xq, int n, int k, float[] w, float[] what, int rows, float[]? biasDelta = null)
    {
        double total = 0;
        for (int r = 0; r < n; r++)
        {
            for (int o = 0; o < rows; o++)
            {
                double y = 0, yq = 0;
                for (int j = 0; j < k; j++)
                {
                    y += (double)w[(long)o * k + j] * x[(long)r * k + j];
                    yq += (double)what[(long)o * k + j] * xq[(long)r * k + j];
                }

                double e = y - yq - (biasDelta?[o] ?? 0);
                total += e * e;
            }
        }

        return total;
    }

    public static float[] Dequantize(LayerSolution s, int rows, int k, Grid grid)
    {
        var what = new float[(long)rows * k];
        for (int r = 0; r < rows; r++)
        {
            RoundingOptimizer.Dequantize(s.Codes, s.Scales, r, k, grid, what.AsSpan(r * k, k));
        }

        return what;
    }
}
