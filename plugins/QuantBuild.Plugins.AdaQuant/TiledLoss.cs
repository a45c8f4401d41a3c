using System.Numerics.Tensors;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// Every row's exact objective L_o = dᵀA d + 2dᵀe_o + c_o at once, for layers too wide for one A·d per row: tiles
/// of 32 rows share each read of A, and only A's upper triangle is used (dᵀAd = Σ A_jj d_j² + 2 Σ_{i&lt;j} d_i A_ij d_j),
/// so a pass costs out × in²/2 multiply-adds through <see cref="Gemm"/> instead of out × in² read from memory.
/// Each row's arithmetic is fixed; the sums differ from <see cref="LayerObjective.Loss"/> only in rounding order.
/// </summary>
internal static class TiledLoss
{
    private const int RowTile = 32, Block = 64;

    /// <summary>L_o (with the bias correction when centred) of the codes and scales, per row.</summary>
    public static double[] Losses(LayerObjective obj, int[] codes, float[] scales, Grid grid, CancellationToken cancel = default)
    {
        int rows = obj.Rows, k = obj.K, nb = grid.Blocks(k), per = rows / obj.Groups;
        var loss = new double[rows];
        int tilesPerGroup = (per + RowTile - 1) / RowTile;
        Parallel.For(0, obj.Groups * tilesPerGroup, new ParallelOptions { CancellationToken = cancel }, tile =>
        {
            int group = tile / tilesPerGroup;
            int r0 = (group * per) + (tile % tilesPerGroup * RowTile), r1 = Math.Min(r0 + RowTile, (group + 1) * per);
            int t = r1 - r0;
            float[] a = obj.A[group];
            var d = new float[t * k];
            var g = new float[t * k];
            for (int r = r0; r < r1; r++)
            {
                for (int j = 0; j < k; j++)
                {
                    long i = ((long)r * k) + j;
                    d[((r - r0) * k) + j] = (codes[i] * scales[(r * nb) + (j / grid.BlockSize)]) - obj.W[i];
                }
            }

            for (int i0 = 0; i0 < k; i0 += Block)
            {
                int i1 = Math.Min(i0 + Block, k);
                for (int r = 0; r < t; r++)
                {
                    for (int i = i0; i < i1 - 1; i++)
                    {
                        float di = d[(r * k) + i];
                        if (di != 0f)
                        {
                            Span<float> gr = g.AsSpan((r * k) + i + 1, i1 - i - 1);
                            TensorPrimitives.MultiplyAdd(a.AsSpan((i * k) + i + 1, i1 - i - 1), di, gr, gr);
                        }
                    }
                }

                if (i1 < k)
                {
                    Gemm.Multiply<Gemm.Fused>(d.AsSpan(i0), k, 1, a.AsSpan((i0 * k) + i1), k, g.AsSpan(i1), k, t, k - i1, i1 - i0, accumulate: true);
                }
            }

            for (int r = 0; r < t; r++)
            {
                int row = r0 + r;
                double s = 0;
                for (int j = 0; j < k; j++)
                {
                    double dj = d[(r * k) + j];
                    s += dj * ((a[((long)j * k) + j] * dj) + (2.0 * g[(r * k) + j]));
                }

                loss[row] = s + (2.0 * TensorPrimitives.Dot(d.AsSpan(r * k, k), obj.Cross.AsSpan(row * k, k))) + obj.C0[row];
            }
        });

        return loss;
    }

    /// <summary>What the loss grows by when the bias is left alone (N·z̄², zero unless centred), per row.</summary>
    public static double[] BiasTerm(LayerObjective obj, int[] codes, float[] scales, Grid grid)
    {
        var extra = new double[obj.Rows];
        if (!obj.Centered)
        {
            return extra;
        }

        int k = obj.K;
        Parallel.For(0, obj.Rows, () => new float[k], (r, _, what) =>
        {
            RoundingOptimizer.Dequantize(codes, scales, r, k, grid, what);
            double z = obj.MeanError(r, what);
            extra[r] = obj.N * z * z;
            return what;
        }, _ => { });
        return extra;
    }
}
