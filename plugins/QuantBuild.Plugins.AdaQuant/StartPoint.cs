namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// Where every solver starts: round-to-nearest with abs-max scales (the baseline the log compares with) and the
/// start — the same with each channel's clipping searched (abs-max × 1, 0.95 … 0.5) — with their exact losses.
/// Up to <see cref="ExactLimit"/> multiply-adds per pass over the layer (out × in²) every candidate is scored on the
/// exact objective channel by channel, as it always was; above it (a 2048-wide layer and up, where that setup alone
/// took minutes) the clipping candidates are scored on H's diagonal (Σ_j H_jj d_j² + 2dᵀe: each input's error as if
/// alone, O(in) a candidate), and only the two chosen points get exact losses, tiled (<see cref="TiledLoss"/>).
/// </summary>
internal sealed class StartPoint
{
    /// <summary>out × in² above which the setup scores clipping on H's diagonal (2^31, as NUPES samples its search).</summary>
    public const double ExactLimit = 1L << 31;

    private StartPoint(float[] scales, int[] codes, double[] nearestLoss, double[] loss)
    {
        Scales = scales;
        Codes = codes;
        NearestLoss = nearestLoss;
        Loss = loss;
    }

    /// <summary>The start's scales, [Rows, Blocks].</summary>
    public float[] Scales { get; }

    /// <summary>The start's codes, [Rows, K].</summary>
    public int[] Codes { get; }

    /// <summary>Per row: the objective of abs-max round-to-nearest with the bias left alone.</summary>
    public double[] NearestLoss { get; }

    /// <summary>Per row: the objective of the start (with the bias correction when centred).</summary>
    public double[] Loss { get; }

    public static StartPoint Find(LayerObjective obj, Grid grid, OptimizerSettings settings)
    {
        int rows = obj.Rows, k = obj.K;
        float[] nearestScales = RoundingOptimizer.AbsMaxScales(obj.W, rows, k, grid);
        var nearestCodes = new int[(long)rows * k];
        RoundingOptimizer.RoundAll(obj.W, nearestScales, nearestCodes, rows, k, grid);
        bool search = settings.ScaleSearch && !grid.SharedScale && settings.Mode != AdaQuantMode.Nearest;
        return (double)rows * k * k <= ExactLimit
            ? Exact(obj, grid, search, nearestScales, nearestCodes)
            : Tiled(obj, grid, search, nearestScales, nearestCodes, settings.Cancellation);
    }

    // The original setup, row by row on the exact objective (small layers keep their numbers bit for bit).
    private static StartPoint Exact(LayerObjective obj, Grid grid, bool search, float[] nearestScales, int[] nearestCodes)
    {
        int rows = obj.Rows, k = obj.K;
        var nearestLoss = new double[rows];
        var startLoss = new double[rows];
        float[] scales = (float[])nearestScales.Clone();
        int[] codes = (int[])nearestCodes.Clone();
        Parallel.For(0, rows, r =>
        {
            var what = new float[k];
            RoundingOptimizer.Dequantize(codes, scales, r, k, grid, what);
            nearestLoss[r] = obj.UncorrectedLoss(r, what);
            startLoss[r] = obj.Loss(r, what);
            if (search)
            {
                RoundingOptimizer.SearchClip(obj, grid, r, nearestScales, scales, codes, startLoss, what);
            }
        });

        return new StartPoint(scales, codes, nearestLoss, startLoss);
    }

    private static StartPoint Tiled(LayerObjective obj, Grid grid, bool search, float[] nearestScales, int[] nearestCodes, CancellationToken cancel)
    {
        int rows = obj.Rows, k = obj.K, nb = grid.Blocks(k);
        double[] corrected = TiledLoss.Losses(obj, nearestCodes, nearestScales, grid, cancel);
        double[] bias = TiledLoss.BiasTerm(obj, nearestCodes, nearestScales, grid);
        double[] nearestLoss = corrected.Select((l, r) => l + bias[r]).ToArray();
        if (!search)
        {
            return new StartPoint((float[])nearestScales.Clone(), (int[])nearestCodes.Clone(), nearestLoss, corrected);
        }

        float[] scales = (float[])nearestScales.Clone();
        int[] codes = (int[])nearestCodes.Clone();
        var changed = new bool[rows];
        Parallel.For(0, rows, r =>
        {
            float[] a = obj.A[obj.GroupOf(r)];
            var trialScales = new float[nb];
            var trialCodes = new int[k];
            double best = Proxy(obj, a, r, nearestCodes, nearestScales.AsSpan(r * nb, nb), grid);
            for (int step = 1; step <= 10; step++)
            {
                float alpha = 1f - (0.05f * step);
                for (int b = 0; b < nb; b++)
                {
                    trialScales[b] = nearestScales[(r * nb) + b] * alpha;
                }

                double p = 0;
                for (int j = 0; j < k; j++)
                {
                    long i = ((long)r * k) + j;
                    float s = trialScales[j / grid.BlockSize];
                    trialCodes[j] = (int)Math.Clamp(MathF.Round(obj.W[i] / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
                    double d = (trialCodes[j] * s) - obj.W[i];
                    p += d * ((a[((long)j * k) + j] * d) + (2.0 * obj.Cross[i]));
                }

                if (p < best)
                {
                    best = p;
                    changed[r] = true;
                    Array.Copy(trialScales, 0, scales, r * nb, nb);
                    Array.Copy(trialCodes, 0, codes, (long)r * k, k);
                }
            }
        });

        if (!changed.Any(c => c))
        {
            return new StartPoint(scales, codes, nearestLoss, corrected);
        }

        // The diagonal only guides the choice: a channel whose clipped start is worse on the exact objective keeps abs-max.
        double[] startLoss = TiledLoss.Losses(obj, codes, scales, grid, cancel);
        for (int r = 0; r < rows; r++)
        {
            if (startLoss[r] > corrected[r])
            {
                startLoss[r] = corrected[r];
                Array.Copy(nearestScales, r * nb, scales, r * nb, nb);
                Array.Copy(nearestCodes, (long)r * k, codes, (long)r * k, k);
            }
        }

        return new StartPoint(scales, codes, nearestLoss, startLoss);
    }

    private static double Proxy(LayerObjective obj, float[] a, int r, int[] codes, ReadOnlySpan<float> rowScales, Grid grid)
    {
        int k = obj.K;
        double p = 0;
        for (int j = 0; j < k; j++)
        {
            long i = ((long)r * k) + j;
            double d = (codes[i] * rowScales[j / grid.BlockSize]) - obj.W[i];
            p += d * ((a[((long)j * k) + j] * d) + (2.0 * obj.Cross[i]));
        }

        return p;
    }
}
