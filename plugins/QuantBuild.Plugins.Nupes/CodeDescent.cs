using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// The coordinate descent of <c>LayerQuantizer.OptimizeCodes</c> on dᵀ(H + ρI)d, run on tiles of rows in
/// lockstep: at each input i the tile's rows take their move one after another, so row i of H is read once per tile
/// (it stays in L1 for the tile's updates) instead of once per row. At 4096 inputs H is 64 MB; read per row and per
/// move, the descent was memory-bound. Each row's arithmetic is exactly what it was row by row (the same float Dot
/// for H·d, the same double updates in the same order), so the codes do not depend on the tiling or the threads.
/// </summary>
internal static class CodeDescent
{
    /// <summary>Rows per tile: 16 rows of 4096 inputs keep their H·d (double) in 512 KB, within L2.</summary>
    private const int Tile = 16;

    /// <summary>Per row, the objective before and after the descent, as the descent sees it (from its H·d).</summary>
    /// <param name="Start">dᵀ(H + ρI)d of the start.</param>
    /// <param name="End">dᵀ(H + ρI)d of the result.</param>
    /// <param name="StartPlain">dᵀHd of the start.</param>
    /// <param name="EndPlain">dᵀHd of the result.</param>
    public sealed record Errors(double[] Start, double[] End, double[] StartPlain, double[] EndPlain);

    /// <summary>
    /// H·d per row of the start (d = w − ŵ, [channels, length]): the part of the descent's first step that does not
    /// depend on the ridge, so retries at another ridge can reuse it instead of another pass over H.
    /// </summary>
    public static float[] StartProducts(LayerMatrix m, OutputError output, float[] decoded)
    {
        int n = m.Length, channels = m.Channels;
        var products = new float[(long)channels * n];
        Parallel.For(0, (channels + Tile - 1) / Tile, t =>
        {
            int c0 = t * Tile, count = Math.Min(Tile, channels - c0);
            var diff = new float[count * n];
            for (int r = 0; r < count; r++)
            {
                TensorPrimitives.Subtract(m.Row(c0 + r), decoded.AsSpan((c0 + r) * n, n), diff.AsSpan(r * n, n));
            }

            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> hi = output.H.AsSpan(i * n, n);
                for (int r = 0; r < count; r++)
                {
                    products[(long)(c0 + r) * n + i] = TensorPrimitives.Dot(hi, diff.AsSpan(r * n, n));
                }
            }
        });

        return products;
    }

    /// <summary>
    /// Descends every row of <paramref name="codes"/>/<paramref name="decoded"/> (the start, changed in place) for up
    /// to <paramref name="sweeps"/> sweeps and returns the per-row objectives it tracked on the way.
    /// </summary>
    public static Errors Run(LayerMatrix m, float[] lut, int bits, OutputError output, int sweeps, int[] codes, float[] decoded, float[]? startProducts = null)
    {
        int channels = m.Channels;
        var errors = new Errors(new double[channels], new double[channels], new double[channels], new double[channels]);
        Parallel.For(0, (channels + Tile - 1) / Tile, t =>
        {
            int c0 = t * Tile;
            DescendTile(m, lut, bits, output, sweeps, codes, decoded, c0, Math.Min(Tile, channels - c0), errors, startProducts);
        });

        return errors;
    }

    private static void DescendTile(LayerMatrix m, float[] lut, int bits, OutputError output, int sweeps, int[] codes, float[] decoded, int c0, int count, Errors errors, float[]? startProducts)
    {
        int n = m.Length;
        int qMax = NupesGrid.QMax(bits);
        int levels = 2 * qMax + 1;
        float[] h = output.H;
        double ridge = output.Ridge;
        var diff = new float[count * n];
        var g = new double[count * n];
        var values = new float[count * levels];
        var active = new bool[count];
        var changed = new bool[count];
        for (int r = 0; r < count; r++)
        {
            TensorPrimitives.Subtract(m.Row(c0 + r), decoded.AsSpan((c0 + r) * n, n), diff.AsSpan(r * n, n));
            active[r] = true;
        }

        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> hi = h.AsSpan(i * n, n);
            for (int r = 0; r < count; r++)
            {
                float hd = startProducts is null ? TensorPrimitives.Dot(hi, diff.AsSpan(r * n, n)) : startProducts[(long)(c0 + r) * n + i];
                g[r * n + i] = hd + ridge * diff[r * n + i];
            }
        }

        Track(diff, g, ridge, count, n, errors.Start, errors.StartPlain, c0);
        for (int sweep = 0; sweep < sweeps; sweep++)
        {
            Array.Clear(changed);
            for (int i = 0; i < n; i++)
            {
                if (i % m.GroupSize == 0)
                {
                    for (int r = 0; r < count; r++)
                    {
                        float s = m.Scales[(c0 + r) * m.Groups + i / m.GroupSize];
                        for (int k = 0; k < levels; k++)
                        {
                            values[r * levels + k] = NupesGrid.Decode(k, lut, s);
                        }
                    }
                }

                double hii = h[i * n + i] + ridge;
                ReadOnlySpan<float> column = h.AsSpan(i * n, n); // H is symmetric: row i is column i
                for (int r = 0; r < count; r++)
                {
                    if (!active[r])
                    {
                        continue;
                    }

                    ReadOnlySpan<float> v = values.AsSpan(r * levels, levels);
                    Span<float> w = decoded.AsSpan((c0 + r) * n, n);
                    double gi = g[r * n + i];
                    double bestGain = -1e-12 * Math.Max(hii, 1e-30) * v[levels - 1] * v[levels - 1];
                    int bestK = -1;
                    double current = w[i];
                    for (int k = 0; k < levels; k++)
                    {
                        double delta = v[k] - current;
                        double gain = -2 * delta * gi + delta * delta * hii;
                        if (gain < bestGain)
                        {
                            (bestGain, bestK) = (gain, k);
                        }
                    }

                    if (bestK >= 0)
                    {
                        double delta = v[bestK] - current;
                        w[i] = v[bestK];
                        diff[r * n + i] = m.Values[(c0 + r) * n + i] - w[i];
                        codes[(c0 + r) * m.PaddedLength + i] = bestK;
                        SubtractScaled(g.AsSpan(r * n, n), delta, column);
                        g[r * n + i] -= delta * ridge;
                        changed[r] = true;
                    }
                }
            }

            bool any = false;
            for (int r = 0; r < count; r++)
            {
                active[r] &= changed[r];
                any |= active[r];
            }

            if (!any)
            {
                break;
            }
        }

        Track(diff, g, ridge, count, n, errors.End, errors.EndPlain, c0);
    }

    // dᵀg with g = (H + ρI)d, and dᵀ(g − ρd) = dᵀHd, per row of the tile.
    private static void Track(float[] diff, double[] g, double ridge, int count, int n, double[] withRidge, double[] plain, int c0)
    {
        for (int r = 0; r < count; r++)
        {
            double e = 0, p = 0;
            for (int j = 0; j < n; j++)
            {
                double d = diff[r * n + j];
                e += d * g[r * n + j];
                p += d * (g[r * n + j] - ridge * d);
            }

            withRidge[c0 + r] = e;
            plain[c0 + r] = p;
        }
    }

    // g[j] -= delta·column[j] in double, vectorised: the same multiply and subtract per element as the scalar loop
    // (no fused multiply-add), so the result is bit-identical to it.
    private static void SubtractScaled(Span<double> g, double delta, ReadOnlySpan<float> column)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> d = Vector512.Create(delta);
            for (; j + 16 <= g.Length; j += 16)
            {
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.Create(column.Slice(j, 16)));
                (Vector512.Create((ReadOnlySpan<double>)g.Slice(j, 8)) - (d * lo)).CopyTo(g.Slice(j, 8));
                (Vector512.Create((ReadOnlySpan<double>)g.Slice(j + 8, 8)) - (d * hi)).CopyTo(g.Slice(j + 8, 8));
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> d = Vector256.Create(delta);
            for (; j + 8 <= g.Length; j += 8)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.Create(column.Slice(j, 8)));
                (Vector256.Create((ReadOnlySpan<double>)g.Slice(j, 4)) - (d * lo)).CopyTo(g.Slice(j, 4));
                (Vector256.Create((ReadOnlySpan<double>)g.Slice(j + 4, 4)) - (d * hi)).CopyTo(g.Slice(j + 4, 4));
            }
        }

        for (; j < g.Length; j++)
        {
            g[j] -= delta * column[j];
        }
    }
}
