namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// target += Σ_r a_r b_rᵀ for a chunk of rows (a, b row-major [rows, k]), the chunk summed in float and added in
/// double — the same arithmetic, element for element, as a per-input axpy over the rows (so H keeps its bits), but
/// in blocks of 32 inputs × 256 outputs through <see cref="Gemm"/>: each block of the chunk is read from cache
/// instead of streaming the whole chunk once per input, which made H the cost of a 4096-wide layer.
/// </summary>
internal static class Gram
{
    private const int RowBlock = 32, Panel = 256;

    /// <summary>Adds the chunk's products to <paramref name="target"/> ([k, k] row-major): only j ≥ i when <paramref name="upper"/>, else every entry.</summary>
    public static void Add(double[] target, float[] a, float[] b, int rows, int k, bool upper)
    {
        if (rows == 0)
        {
            return;
        }

        int blocks = (k + RowBlock - 1) / RowBlock;
        Parallel.For(0, blocks, () => new float[RowBlock * Panel], (blk, _, tmp) =>
        {
            int i0 = blk * RowBlock, m = Math.Min(RowBlock, k - i0);
            int start = upper ? i0 : 0;
            for (int j0 = start; j0 < k; j0 += Panel)
            {
                int n = Math.Min(Panel, k - j0);
                Gemm.Multiply<Gemm.Separate>(a.AsSpan(i0), 1, k, b.AsSpan(j0), k, tmp, Panel, m, n, rows, accumulate: false);
                for (int ii = 0; ii < m; ii++)
                {
                    int i = i0 + ii;
                    long row = (long)i * k;
                    int from = upper ? Math.Max(0, i - j0) : 0;
                    for (int jj = from; jj < n; jj++)
                    {
                        target[row + j0 + jj] += tmp[(ii * Panel) + jj];
                    }
                }
            }

            return tmp;
        }, _ => { });
    }
}
