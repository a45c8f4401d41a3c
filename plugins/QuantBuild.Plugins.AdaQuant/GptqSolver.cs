using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// GPTQ (Frantar et al., 2023) on a <see cref="LayerObjective"/>: the inputs are quantized one at a time (in order of
/// decreasing H_jj with act order) on the start's grid, and each one's rounding error is carried into the inputs not
/// yet quantized through <see cref="GptqFactor"/>'s Ũ, so the later codes compensate it; the carry is applied lazily,
/// 128 inputs at a time, as one <see cref="Gemm"/> update of the rest (out × in²/2 multiply-adds in all, about one
/// gradient step). Rows are independent given Ũ and run in parallel tiles of 32, each row's arithmetic fixed, so the
/// codes do not depend on threads. In sequential mode the target moves to the optimum w − A⁻¹e (through Ũ as well).
/// Per row the result is the better of the start and the GPTQ codes on the exact objective.
/// </summary>
internal static class GptqSolver
{
    private const int BlockColumns = 128, RowTile = 32;

    public static LayerSolution Solve(LayerObjective obj, Grid grid, OptimizerSettings settings)
    {
        var clock = Stopwatch.StartNew();
        int rows = obj.Rows, k = obj.K, per = rows / obj.Groups;
        StartPoint start = StartPoint.Find(obj, grid, settings);
        double setup = clock.Elapsed.TotalSeconds;
        var codes = new int[(long)rows * k];
        double damping = 0, factorSeconds = 0;
        for (int g = 0; g < obj.Groups; g++)
        {
            settings.Cancellation.ThrowIfCancellationRequested();
            double before = clock.Elapsed.TotalSeconds;
            GptqFactor f = GptqFactor.Create(obj.A[g], k, settings.Damping, settings.ActOrder, settings.LayerName);
            factorSeconds += clock.Elapsed.TotalSeconds - before;
            damping = Math.Max(damping, f.Damping);
            int tiles = (per + RowTile - 1) / RowTile;
            Parallel.For(0, tiles, new ParallelOptions { CancellationToken = settings.Cancellation }, t =>
            {
                int r0 = (g * per) + (t * RowTile), r1 = Math.Min(r0 + RowTile, (g + 1) * per);
                Sweep(obj, grid, start.Scales, f, r0, r1, codes);
            });
            settings.Progress?.Invoke(g + 1, obj.Groups);
        }

        double sweepDone = clock.Elapsed.TotalSeconds;
        double[] loss = TiledLoss.Losses(obj, codes, start.Scales, grid, settings.Cancellation);
        int improved = 0;
        for (int r = 0; r < rows; r++)
        {
            if (loss[r] < start.Loss[r])
            {
                improved++;
            }
            else
            {
                loss[r] = start.Loss[r];
                Array.Copy(start.Codes, (long)r * k, codes, (long)r * k, k);
            }
        }

        var bias = new float[rows];
        if (obj.Centered)
        {
            Parallel.For(0, rows, () => new float[k], (r, _, what) =>
            {
                RoundingOptimizer.Dequantize(codes, start.Scales, r, k, grid, what);
                bias[r] = (float)-obj.MeanError(r, what);
                return what;
            }, _ => { });
        }

        return new LayerSolution
        {
            Codes = codes,
            Scales = start.Scales,
            NearestLoss = start.NearestLoss,
            Loss = loss,
            BiasDelta = bias,
            Improved = improved,
            Seconds = clock.Elapsed.TotalSeconds,
            Solver = "gptq",
            Detail = string.Create(CultureInfo.InvariantCulture,
                $"damping {damping:G3} × mean H_jj{(settings.ActOrder ? ", act order" : string.Empty)}; start {setup:0.00} s, factor {factorSeconds:0.00} s, pass {sweepDone - setup - factorSeconds:0.00} s, losses {clock.Elapsed.TotalSeconds - sweepDone:0.00} s"),
        };
    }

    /// <summary>The GPTQ pass over rows <paramref name="r0"/>…<paramref name="r1"/> of one group, writing their codes.</summary>
    internal static void Sweep(LayerObjective obj, Grid grid, float[] scales, GptqFactor f, int r0, int r1, int[] codes)
    {
        int k = obj.K, nb = grid.Blocks(k), t = r1 - r0;
        int[] order = f.Order;
        float[] u = f.U;
        var orig = new float[t * k];
        for (int r = 0; r < t; r++)
        {
            for (int p = 0; p < k; p++)
            {
                orig[(r * k) + p] = f.Dead[p] ? 0f : obj.W[((long)(r0 + r) * k) + order[p]];
            }
        }

        float[] work = (float[])orig.Clone();
        float[]? shift = obj.Cross.Length > 0 && obj.Cross.AsSpan(r0 * k, t * k).ContainsAnyExcept(0f) ? Shift(obj, f, r0, r1) : null;
        var carried = new float[t * BlockColumns];
        for (int j0 = 0; j0 < k; j0 += BlockColumns)
        {
            int j1 = Math.Min(j0 + BlockColumns, k), width = j1 - j0;
            for (int p = j0; p < j1; p++)
            {
                int column = order[p];
                ReadOnlySpan<float> up = u.AsSpan((p * k) + p + 1, j1 - p - 1);
                for (int r = 0; r < t; r++)
                {
                    int row = r0 + r;
                    float target = work[(r * k) + p] - (shift?[(r * k) + p] ?? 0f);
                    float s = scales[(row * nb) + (column / grid.BlockSize)];
                    int q = (int)Math.Clamp(MathF.Round(target / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
                    codes[((long)row * k) + column] = q;
                    float e = orig[(r * k) + p] - (q * s);
                    carried[(r * BlockColumns) + (p - j0)] = e;
                    if (e != 0f && up.Length > 0)
                    {
                        Span<float> rest = work.AsSpan((r * k) + p + 1, up.Length);
                        TensorPrimitives.MultiplyAdd(up, e, rest, rest);
                    }
                }
            }

            if (j1 < k)
            {
                Gemm.Multiply<Gemm.Fused>(carried, BlockColumns, 1, u.AsSpan((j0 * k) + j1), k, work.AsSpan(j1), k, t, k - j1, width, accumulate: true);
            }
        }
    }

    // Sequential mode: L = dᵀAd + 2dᵀe + c is least at w* = w − A⁻¹e, and GPTQ toward w* quantizes at position p
    // the running value minus (z/D̃)_p, where z solves z·Ũᵀ = e (back substitution along Ũ's rows).
    private static float[] Shift(LayerObjective obj, GptqFactor f, int r0, int r1)
    {
        int k = obj.K, t = r1 - r0;
        var z = new float[t * k];
        for (int p = k - 1; p >= 0; p--)
        {
            ReadOnlySpan<float> up = f.U.AsSpan((p * k) + p + 1, k - p - 1);
            for (int r = 0; r < t; r++)
            {
                float e = f.Dead[p] ? 0f : obj.Cross[((long)(r0 + r) * k) + f.Order[p]];
                z[(r * k) + p] = e - TensorPrimitives.Dot(up, z.AsSpan((r * k) + p + 1, k - p - 1));
            }
        }

        for (int r = 0; r < t; r++)
        {
            for (int p = 0; p < k; p++)
            {
                z[(r * k) + p] = (float)(z[(r * k) + p] / f.D[p]);
            }
        }

        return z;
    }
}
