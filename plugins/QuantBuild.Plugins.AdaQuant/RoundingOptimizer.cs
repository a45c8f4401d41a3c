using System.Diagnostics;
using System.Numerics.Tensors;
using QuantBuild.Abstractions.Quantization;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>The integer grid: codes in [<see cref="QMin"/>, <see cref="QMax"/>], one scale per <see cref="BlockSize"/> inputs of a row.</summary>
/// <param name="Bits">Bits per weight.</param>
/// <param name="QMin">Smallest code (−2^(bits−1)).</param>
/// <param name="QMax">Largest code (2^(bits−1) − 1).</param>
/// <param name="BlockSize">Inputs per scale; K for per-channel.</param>
/// <param name="SharedScale">One scale for the whole tensor (devices without per-channel scales).</param>
internal sealed record Grid(int Bits, int QMin, int QMax, int BlockSize, bool SharedScale)
{
    public static Grid Signed(int bits, int k, int? blockSize = null, bool shared = false) => For(WeightGrid.Signed(bits), k, blockSize, shared);

    /// <summary>The device's grid <paramref name="codes"/> (reduce-range included) over rows of <paramref name="k"/> inputs.</summary>
    public static Grid For(WeightGrid codes, int k, int? blockSize = null, bool shared = false) =>
        new(codes.Bits, codes.QMin, codes.QMax, blockSize is { } b && b < k ? b : k, shared);

    public int Blocks(int k) => (k + BlockSize - 1) / BlockSize;
}

/// <summary>Settings of one optimisation.</summary>
internal sealed record OptimizerSettings
{
    public AdaQuantMode Mode { get; init; } = AdaQuantMode.Adaround;

    public int Iterations { get; init; } = 1000;

    public double LearningRate { get; init; } = 0.01;

    public double Regularization { get; init; } = 0.01;

    public double Warmup { get; init; } = 0.2;

    public bool ScaleSearch { get; init; } = true;

    public AdaQuantSolver Solver { get; init; } = AdaQuantSolver.Gradient;

    /// <summary>gptq: quantize inputs in order of decreasing H_jj.</summary>
    public bool ActOrder { get; init; } = true;

    /// <summary>gptq: the damping as a fraction of H's mean diagonal.</summary>
    public double Damping { get; init; } = 0.01;

    /// <summary>The layer's share of the time budget (shapes only, so <c>auto</c> decides the same every run); null for none.</summary>
    public double? BudgetSeconds { get; init; }

    /// <summary>For messages.</summary>
    public string LayerName { get; init; } = "layer";

    /// <summary>Stop (keeping the best so far) when this passes; null for no limit.</summary>
    public DateTime? Deadline { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>Called with (iterations done, iterations planned) between chunks of iterations.</summary>
    public Action<int, int>? Progress { get; init; }
}

/// <summary>A layer's chosen codes and scales, and its error before and after.</summary>
internal sealed class LayerSolution
{
    public required int[] Codes { get; init; }

    /// <summary>[Rows, Blocks] scales.</summary>
    public required float[] Scales { get; init; }

    /// <summary>Per row: the objective with plain abs-max round-to-nearest (bias left alone).</summary>
    public required double[] NearestLoss { get; init; }

    /// <summary>Per row: the objective of the chosen codes (with the bias correction when enabled).</summary>
    public required double[] Loss { get; init; }

    /// <summary>Per row: the bias change b̂ − b (zero without bias correction).</summary>
    public required float[] BiasDelta { get; init; }

    /// <summary>Rows where the optimised rounding beat the starting point (otherwise the starting point is kept).</summary>
    public int Improved { get; init; }

    public int IterationsRun { get; init; }

    public bool StoppedEarly { get; init; }

    public double Seconds { get; init; }

    /// <summary>What found the codes, for the log: the mode's name, or <c>gptq</c>.</summary>
    public string Solver { get; init; } = string.Empty;

    /// <summary>How it went, for the log (iterations; gptq's damping and times).</summary>
    public string Detail { get; init; } = string.Empty;

    public float Dequantized(int row, int j, int k, int blockSize, int blocks) =>
        Codes[(long)row * k + j] * Scales[row * blocks + j / blockSize];
}

/// <summary>
/// AdaRound (Nagel et al. 2020) and AdaQuant (Hubara et al. 2021) on a <see cref="LayerObjective"/>: full-batch Adam
/// where each step costs one A·d per channel (O(K²)), whatever the number of calibration rows. Rows are independent
/// and updated in tiles in parallel; every row's arithmetic is fixed, so the result does not depend on threads.
/// </summary>
internal static class RoundingOptimizer
{
    private const float Zeta = 1.1f, Gamma = -0.1f;
    private const int Tile = 16;
    private const double BetaStart = 20, BetaEnd = 2;

    public static LayerSolution Solve(LayerObjective obj, Grid grid, OptimizerSettings settings)
    {
        if (SolverRule.UsesGptq(obj, settings))
        {
            return GptqSolver.Solve(obj, grid, settings);
        }

        var clock = Stopwatch.StartNew();
        int rows = obj.Rows, k = obj.K;
        StartPoint start = StartPoint.Find(obj, grid, settings);
        float[] scales = start.Scales;
        int[] codes = start.Codes;
        double[] nearestLoss = start.NearestLoss, startLoss = start.Loss;

        var bestCodes = (int[])codes.Clone();
        var bestScales = (float[])scales.Clone();
        var bestLoss = (double[])startLoss.Clone();
        int ran = 0;
        bool early = false;
        if (settings.Mode != AdaQuantMode.Nearest && settings.Iterations > 0)
        {
            (ran, early) = settings.Mode == AdaQuantMode.Adaround
                ? AdaRound(obj, grid, settings, codes, scales, bestCodes, bestLoss)
                : AdaQuantSte(obj, grid, settings, codes, scales, bestCodes, bestScales, bestLoss);
        }

        int improved = 0;
        var bias = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            if (bestLoss[r] < startLoss[r])
            {
                improved++;
            }
        }

        Parallel.For(0, rows, r =>
        {
            if (obj.Centered)
            {
                var what = new float[k];
                Dequantize(bestCodes, bestScales, r, k, grid, what);
                bias[r] = (float)-obj.MeanError(r, what);
            }
        });

        return new LayerSolution
        {
            Codes = bestCodes,
            Scales = bestScales,
            NearestLoss = nearestLoss,
            Loss = bestLoss,
            BiasDelta = bias,
            Improved = improved,
            IterationsRun = ran,
            StoppedEarly = early,
            Seconds = clock.Elapsed.TotalSeconds,
            Solver = settings.Mode.ToString().ToLowerInvariant(),
            Detail = $"{ran} iterations",
        };
    }

    /// <summary>Scale = max|w| / qMax per block (per tensor when shared); 1 for an all-zero block.</summary>
    public static float[] AbsMaxScales(float[] w, int rows, int k, Grid grid)
    {
        int nb = grid.Blocks(k);
        var s = new float[rows * nb];
        float all = grid.SharedScale ? MathF.Abs(TensorPrimitives.MaxMagnitude(w)) : 0f;
        for (int r = 0; r < rows; r++)
        {
            for (int b = 0; b < nb; b++)
            {
                int start = b * grid.BlockSize, len = Math.Min(grid.BlockSize, k - start);
                float m = grid.SharedScale ? all : MathF.Abs(TensorPrimitives.MaxMagnitude(w.AsSpan(r * k + start, len)));
                float v = m / grid.QMax;
                s[r * nb + b] = float.IsNormal(v) ? v : 1f;
            }
        }

        return s;
    }

    public static void RoundAll(float[] w, float[] scales, int[] codes, int rows, int k, Grid grid)
    {
        for (int r = 0; r < rows; r++)
        {
            RoundRow(w, scales, codes, r, k, grid);
        }
    }

    private static void RoundRow(float[] w, float[] scales, int[] codes, int r, int k, Grid grid)
    {
        int nb = grid.Blocks(k);
        for (int j = 0; j < k; j++)
        {
            float s = scales[r * nb + j / grid.BlockSize];
            codes[(long)r * k + j] = (int)Math.Clamp(MathF.Round(w[(long)r * k + j] / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
        }
    }

    public static void Dequantize(int[] codes, float[] scales, int r, int k, Grid grid, Span<float> what)
    {
        int nb = grid.Blocks(k);
        for (int j = 0; j < k; j++)
        {
            what[j] = codes[(long)r * k + j] * scales[r * nb + j / grid.BlockSize];
        }
    }

    // Clipping search: scale = α·absmax/qMax for α = 1, 0.95 … 0.5 on the whole row, nearest codes, least output error.
    public static void SearchClip(LayerObjective obj, Grid grid, int r, float[] absMax, float[] scales, int[] codes, double[] loss, float[] what)
    {
        int k = obj.K, nb = grid.Blocks(k);
        var trialScales = new float[scales.Length == 0 ? 0 : nb];
        var trialCodes = new int[k];
        for (int step = 1; step <= 10; step++)
        {
            float alpha = 1f - 0.05f * step;
            for (int b = 0; b < nb; b++)
            {
                trialScales[b] = absMax[r * nb + b] * alpha;
            }

            for (int j = 0; j < k; j++)
            {
                float s = trialScales[j / grid.BlockSize];
                trialCodes[j] = (int)Math.Clamp(MathF.Round(obj.W[(long)r * k + j] / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
                what[j] = trialCodes[j] * s;
            }

            double l = obj.Loss(r, what);
            if (l < loss[r])
            {
                loss[r] = l;
                Array.Copy(trialScales, 0, scales, r * nb, nb);
                Array.Copy(trialCodes, 0, codes, (long)r * k, k);
            }
        }
    }

    private static IEnumerable<(int Start, int End)> Tiles(LayerObjective obj)
    {
        int per = obj.Rows / obj.Groups;
        for (int g = 0; g < obj.Groups; g++)
        {
            for (int start = g * per; start < (g + 1) * per; start += Tile)
            {
                yield return (start, Math.Min(start + Tile, (g + 1) * per));
            }
        }
    }

    private static int ChunkSize(int iterations) => Math.Clamp(iterations / 20, 1, 100);

    // Runs iterations [0, total) chunk by chunk, every tile of a chunk in parallel (tiles own disjoint rows, so no
    // reduction races). Between chunks: the time budget, cancellation and progress. Returns the iterations run and
    // whether the budget stopped them early.
    private static (int Done, bool Early) RunChunked(int total, OptimizerSettings st, (int Start, int End)[] tiles,
        Action<(int Start, int End), int, int> tileWork)
    {
        int done = 0, chunk = ChunkSize(total);
        while (done < total)
        {
            if (st.Deadline is { } deadline && DateTime.UtcNow >= deadline)
            {
                return (done, true);
            }

            st.Cancellation.ThrowIfCancellationRequested();
            int from = done, to = Math.Min(total, done + chunk);
            Parallel.ForEach(tiles, tile => tileWork(tile, from, to));
            done = to;
            st.Progress?.Invoke(done, total);
        }

        return (done, false);
    }

    private static (int Ran, bool Early) AdaRound(LayerObjective obj, Grid grid, OptimizerSettings st, int[] startCodes, float[] scales,
        int[] bestCodes, double[] bestLoss)
    {
        int rows = obj.Rows, k = obj.K, nb = grid.Blocks(k), total = st.Iterations;
        long size = (long)rows * k;
        var floor = new float[size];
        var v = new float[size];
        var m1 = new float[size];
        var m2 = new float[size];
        var d = new float[size];
        var g = new float[size];
        var hard = new float[size];
        var sig = new float[size];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < k; j++)
            {
                long i = (long)r * k + j;
                float x = obj.W[i] / scales[r * nb + j / grid.BlockSize];
                float f = MathF.Floor(x);
                floor[i] = f;
                float rest = Math.Clamp(x - f, 0.01f, 0.99f);
                v[i] = -MathF.Log((Zeta - Gamma) / (rest - Gamma) - 1f);
            }
        }

        (int Start, int End)[] tiles = Tiles(obj).ToArray();
        int warm = (int)(st.Warmup * total);
        int check = Math.Max(1, (total - warm) / 10);
        float lr = (float)st.LearningRate, lambda = (float)st.Regularization;
        float invN = 2f / Math.Max(1, obj.N);
        (int done, bool early) = RunChunked(total, st, tiles, (tile, from, to) =>
        {
            var powBuf = new float[k];
            for (int it = from; it < to; it++)
            {
                bool reg = it >= warm;
                float beta = reg ? (float)(BetaEnd + (BetaStart - BetaEnd) * Math.Max(0.0, 1.0 - (double)(it - warm) / Math.Max(1, total - warm))) : 0f;
                for (int r = tile.Start; r < tile.End; r++)
                {
                    // σ(V) vectorised once per row; the gradient below reuses it.
                    TensorPrimitives.Sigmoid(v.AsSpan(r * k, k), sig.AsSpan(r * k, k));
                    for (int j = 0; j < k; j++)
                    {
                        long i = (long)r * k + j;
                        float h = Math.Clamp(sig[i] * (Zeta - Gamma) + Gamma, 0f, 1f);
                        float q = Math.Clamp(floor[i] + h, grid.QMin, grid.QMax);
                        d[i] = q * scales[r * nb + j / grid.BlockSize] - obj.W[i];
                    }
                }

                obj.Apply(tile.Start, tile.End, d, g);
                int t = it + 1;
                float c1 = 1f - MathF.Pow(0.9f, t), c2 = 1f - MathF.Pow(0.999f, t);
                for (int r = tile.Start; r < tile.End; r++)
                {
                    Span<float> pw = powBuf.AsSpan(0, k);
                    if (reg)
                    {
                        // |2h−1|^(β−1), vectorised per row.
                        for (int j = 0; j < k; j++)
                        {
                            float h0 = Math.Clamp(sig[(long)r * k + j] * (Zeta - Gamma) + Gamma, 0f, 1f);
                            pw[j] = MathF.Abs(2f * h0 - 1f);
                        }

                        TensorPrimitives.Pow(pw, beta - 1f, pw);
                    }

                    for (int j = 0; j < k; j++)
                    {
                        long i = (long)r * k + j;
                        float sg = sig[i];
                        float hraw = sg * (Zeta - Gamma) + Gamma;
                        float h = Math.Clamp(hraw, 0f, 1f);
                        float x = floor[i] + h;
                        float s = scales[r * nb + j / grid.BlockSize];
                        float gh = x >= grid.QMin && x <= grid.QMax ? invN * (g[i] + obj.Cross[i]) * s : 0f;
                        if (reg)
                        {
                            gh -= lambda * 2f * beta * pw[j] * MathF.Sign(2f * h - 1f);
                        }

                        float gv = hraw > 0f && hraw < 1f ? gh * (Zeta - Gamma) * sg * (1f - sg) : 0f;
                        m1[i] = 0.9f * m1[i] + 0.1f * gv;
                        m2[i] = 0.999f * m2[i] + 0.001f * gv * gv;
                        v[i] -= lr * (m1[i] / c1) / (MathF.Sqrt(m2[i] / c2) + 1e-8f);
                    }
                }

                if (it >= warm && ((it - warm + 1) % check == 0 || t == total))
                {
                    CheckHard(obj, grid, scales, floor, v, hard, g, tile, bestCodes, bestLoss);
                }
            }
        });

        if (early)
        {
            Parallel.ForEach(tiles, tile => CheckHard(obj, grid, scales, floor, v, hard, g, tile, bestCodes, bestLoss));
        }

        return (done, early);
    }

    // Hard rounding of the current V (up where h ≥ ½); keeps each row's codes if its exact error is the best so far.
    private static void CheckHard(LayerObjective obj, Grid grid, float[] scales, float[] floor, float[] v, float[] hard, float[] g,
        (int Start, int End) tile, int[] bestCodes, double[] bestLoss)
    {
        int k = obj.K, nb = grid.Blocks(k);
        for (int r = tile.Start; r < tile.End; r++)
        {
            for (int j = 0; j < k; j++)
            {
                long i = (long)r * k + j;
                float q = Math.Clamp(floor[i] + (v[i] >= 0f ? 1f : 0f), grid.QMin, grid.QMax);
                hard[i] = q * scales[r * nb + j / grid.BlockSize] - obj.W[i];
            }
        }

        obj.Apply(tile.Start, tile.End, hard, g);
        for (int r = tile.Start; r < tile.End; r++)
        {
            Span<float> dr = hard.AsSpan(r * k, k);
            double loss = obj.LossFrom(r, dr, g.AsSpan(r * k, k));
            if (loss < bestLoss[r])
            {
                bestLoss[r] = loss;
                for (int j = 0; j < k; j++)
                {
                    long i = (long)r * k + j;
                    bestCodes[i] = (int)Math.Clamp(floor[i] + (v[i] >= 0f ? 1f : 0f), grid.QMin, grid.QMax);
                }
            }
        }
    }

    private static (int Ran, bool Early) AdaQuantSte(LayerObjective obj, Grid grid, OptimizerSettings st, int[] startCodes, float[] startScales,
        int[] bestCodes, float[] bestScales, double[] bestLoss)
    {
        int rows = obj.Rows, k = obj.K, nb = grid.Blocks(k), total = st.Iterations;
        long size = (long)rows * k;
        var u = new float[size];
        var m1 = new float[size];
        var m2 = new float[size];
        var d = new float[size];
        var g = new float[size];
        var logScale = new float[rows * nb];
        var s1 = new float[rows * nb];
        var s2 = new float[rows * nb];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < k; j++)
            {
                long i = (long)r * k + j;
                u[i] = obj.W[i] / startScales[r * nb + j / grid.BlockSize];
            }
        }

        (int Start, int End)[] tiles = Tiles(obj).ToArray();
        float lr = (float)st.LearningRate, lrScale = grid.SharedScale ? 0f : (float)st.LearningRate * 0.1f;
        float invN = 2f / Math.Max(1, obj.N);
        (int done, bool early) = RunChunked(total, st, tiles, (tile, from, to) =>
        {
            var gs = new float[nb];
            for (int it = from; it < to; it++)
            {
                for (int r = tile.Start; r < tile.End; r++)
                {
                    for (int j = 0; j < k; j++)
                    {
                        long i = (long)r * k + j;
                        int b = r * nb + j / grid.BlockSize;
                        float q = Math.Clamp(MathF.Round(u[i], MidpointRounding.ToEven), grid.QMin, grid.QMax);
                        d[i] = q * startScales[b] * MathF.Exp(logScale[b]) - obj.W[i];
                    }
                }

                obj.Apply(tile.Start, tile.End, d, g);
                int t = it + 1;
                float c1 = 1f - MathF.Pow(0.9f, t), c2 = 1f - MathF.Pow(0.999f, t);
                for (int r = tile.Start; r < tile.End; r++)
                {
                    // The forward pass is hard, so its error is exact: keep the best codes and scales seen.
                    Span<float> dr = d.AsSpan(r * k, k);
                    double loss = obj.LossFrom(r, dr, g.AsSpan(r * k, k));
                    if (loss < bestLoss[r])
                    {
                        bestLoss[r] = loss;
                        for (int j = 0; j < k; j++)
                        {
                            long i = (long)r * k + j;
                            bestCodes[i] = (int)Math.Clamp(MathF.Round(u[i], MidpointRounding.ToEven), grid.QMin, grid.QMax);
                        }

                        for (int b = 0; b < nb; b++)
                        {
                            bestScales[r * nb + b] = startScales[r * nb + b] * MathF.Exp(logScale[r * nb + b]);
                        }
                    }

                    Array.Clear(gs);
                    for (int j = 0; j < k; j++)
                    {
                        long i = (long)r * k + j;
                        int b = r * nb + j / grid.BlockSize;
                        float s = startScales[b] * MathF.Exp(logScale[b]);
                        float q = Math.Clamp(MathF.Round(u[i], MidpointRounding.ToEven), grid.QMin, grid.QMax);
                        float gw = invN * (g[i] + obj.Cross[i]);
                        gs[j / grid.BlockSize] += gw * q * s;
                        float gu = u[i] >= grid.QMin - 0.5f && u[i] <= grid.QMax + 0.5f ? gw * s : 0f;
                        m1[i] = 0.9f * m1[i] + 0.1f * gu;
                        m2[i] = 0.999f * m2[i] + 0.001f * gu * gu;
                        u[i] -= lr * (m1[i] / c1) / (MathF.Sqrt(m2[i] / c2) + 1e-8f);
                    }

                    for (int b = 0; b < nb && lrScale > 0f; b++)
                    {
                        int bi = r * nb + b;
                        s1[bi] = 0.9f * s1[bi] + 0.1f * gs[b];
                        s2[bi] = 0.999f * s2[bi] + 0.001f * gs[b] * gs[b];
                        logScale[bi] -= lrScale * (s1[bi] / c1) / (MathF.Sqrt(s2[bi] / c2) + 1e-8f);
                    }
                }
            }
        });

        return (done, early);
    }
}
