using System.Numerics.Tensors;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// One layer's weights as a [channels, length] matrix, one row per output channel (the input axis along the row),
/// cut into groups of <see cref="GroupSize"/> along the row, each with its abs-max scale. The last group of a row is
/// padded when the row length is not a multiple of the group size (the padding is coded as zero and sliced away).
/// </summary>
internal sealed class LayerMatrix
{
    public LayerMatrix(float[] values, int channels, int length, int groupSize)
    {
        if (values.Length != (long)channels * length)
        {
            throw new ArgumentException("values do not fill channels × length", nameof(values));
        }

        Values = values;
        Channels = channels;
        Length = length;
        GroupSize = groupSize <= 0 || groupSize > length ? length : groupSize;
        Groups = (length + GroupSize - 1) / GroupSize;
        Scales = new float[channels * Groups];
        Parallel.For(0, channels, c =>
        {
            for (int g = 0; g < Groups; g++)
            {
                int start = g * GroupSize;
                ReadOnlySpan<float> group = values.AsSpan(c * length + start, Math.Min(GroupSize, length - start));
                Scales[c * Groups + g] = Math.Abs(TensorPrimitives.MaxMagnitude(group));
            }
        });
    }

    public float[] Values { get; }

    public int Channels { get; }

    public int Length { get; }

    public int GroupSize { get; }

    public int Groups { get; }

    public int PaddedLength => Groups * GroupSize;

    /// <summary>Abs-max per (channel, group), channel-major.</summary>
    public float[] Scales { get; }

    public ReadOnlySpan<float> Row(int c) => Values.AsSpan(c * Length, Length);

    public float Scale(int c, int r) => Scales[c * Groups + r / GroupSize];
}

/// <summary>
/// A layer quantized at one exponent: code indices [channels, padded length], the decoded weights, the objective
/// <see cref="Error"/> and the squared weight error <see cref="WeightSquaredError"/> Σ(w − ŵ)² (the budget's measure).
/// </summary>
internal sealed record LayerQuantization(int Bits, double Exponent, float[] Lut, int[] Codes, float[] Decoded, double Error, double WeightSquaredError);

/// <summary>An error to minimise, summed over a layer's rows.</summary>
internal interface ILayerObjective
{
    string Name { get; }

    /// <summary>The error row <paramref name="row"/> leaves when its weights are off by <paramref name="diff"/> (w − ŵ).</summary>
    double RowError(int row, ReadOnlySpan<float> diff);
}

/// <summary>Data-free: the squared weight reconstruction error Σ(w − ŵ)².</summary>
internal sealed class WeightError : ILayerObjective
{
    public static readonly WeightError Instance = new();

    public string Name => "weight squared error";

    public double RowError(int row, ReadOnlySpan<float> diff) => TensorPrimitives.Dot(diff, diff);
}

/// <summary>
/// Data-driven: the layer's output error on calibration inputs, dᵀHd per output channel with d = w − ŵ and
/// H = XᵀX / n the inputs' second moment (X's rows are the inputs a channel's weights multiply: features of a
/// Gemm/MatMul, im2col patches of a Conv). H is computed once per layer.
/// </summary>
internal sealed class OutputError : ILayerObjective
{
    public OutputError(float[] hessian, int length, double ridge = 0)
    {
        H = hessian;
        Length = length;
        Ridge = ridge;
    }

    public float[] H { get; }

    public int Length { get; }

    /// <summary>ρ in dᵀ(H + ρI)d: how much each unit of squared weight error costs on top of the output error.</summary>
    public double Ridge { get; }

    /// <summary>The mean of H's diagonal, the natural unit of <see cref="Ridge"/> (the output error one weight's error causes on its own).</summary>
    public double MeanDiagonal
    {
        get
        {
            double sum = 0;
            for (int i = 0; i < Length; i++)
            {
                sum += H[i * Length + i];
            }

            return sum / Length;
        }
    }

    public string Name => "output squared error";

    /// <summary>The same H with ridge <paramref name="ridge"/> (H is shared, not copied).</summary>
    public OutputError WithRidge(double ridge) => new(H, Length, ridge);

    public double RowError(int row, ReadOnlySpan<float> diff)
    {
        double sum = Ridge == 0 ? 0 : Ridge * TensorPrimitives.Dot(diff, diff);
        for (int i = 0; i < Length; i++)
        {
            if (diff[i] != 0)
            {
                sum += diff[i] * (double)TensorPrimitives.Dot(H.AsSpan(i * Length, Length), diff);
            }
        }

        return sum;
    }
}

/// <summary>The NUPES search and code optimisation on a <see cref="LayerMatrix"/>.</summary>
internal static class LayerQuantizer
{
    /// <summary>Codes every weight with the formula at exponent <paramref name="exponent"/> and scores the result.</summary>
    public static LayerQuantization Quantize(LayerMatrix m, int bits, double exponent, ILayerObjective objective)
    {
        int qMax = NupesGrid.QMax(bits);
        float[] lut = NupesGrid.Lut(bits, exponent);
        var codes = new int[m.Channels * m.PaddedLength];
        var decoded = new float[m.Values.Length];
        Parallel.For(0, m.Channels, c =>
        {
            ReadOnlySpan<float> row = m.Row(c);
            Span<int> rowCodes = codes.AsSpan(c * m.PaddedLength, m.PaddedLength);
            rowCodes.Fill(qMax);
            for (int r = 0; r < m.Length; r++)
            {
                float s = m.Scale(c, r);
                int index = NupesGrid.Quantize(row[r], s, exponent, qMax) + qMax;
                rowCodes[r] = index;
                decoded[c * m.Length + r] = NupesGrid.Decode(index, lut, s);
            }
        });

        return new LayerQuantization(bits, exponent, lut, codes, decoded, Score(m, decoded, objective), Score(m, decoded, WeightError.Instance));
    }

    /// <summary>The objective summed over rows (rows in parallel, summed in order so the total is deterministic).</summary>
    public static double Score(LayerMatrix m, float[] decoded, ILayerObjective objective)
    {
        var rows = new double[m.Channels];
        Parallel.For(0, m.Channels, () => new float[m.Length], (c, _, diff) =>
        {
            TensorPrimitives.Subtract(m.Row(c), decoded.AsSpan(c * m.Length, m.Length), diff);
            rows[c] = objective.RowError(c, diff);
            return diff;
        }, _ => { });
        double total = 0;
        foreach (double e in rows)
        {
            total += e;
        }

        return total;
    }

    /// <summary>
    /// The exponent with the least objective: a = 1 first (so ties keep the uniform grid and the result is never worse
    /// than it), then a coarse grid over [min, max], then two refinements of ±one step around the best at a quarter of
    /// the previous step. With a <paramref name="weightBudget"/> (a bound on Σ(w − ŵ)²) only exponents within it
    /// compete on the objective; when none is, the one with the least weight error wins.
    /// </summary>
    public static LayerQuantization Search(LayerMatrix m, int bits, ExponentRange range, ILayerObjective objective, List<(double Exponent, double Error, double WeightSquaredError)>? trials = null, double weightBudget = double.PositiveInfinity)
    {
        bool Better(LayerQuantization q, LayerQuantization current)
        {
            bool feasible = q.WeightSquaredError <= weightBudget, currentFeasible = current.WeightSquaredError <= weightBudget;
            return feasible != currentFeasible ? feasible : feasible ? q.Error < current.Error : q.WeightSquaredError < current.WeightSquaredError;
        }

        var seen = new Dictionary<double, LayerQuantization>();
        LayerQuantization? best = null;
        void Try(double a)
        {
            a = Math.Round(Math.Clamp(a, range.Min, range.Max), 6);
            if (seen.ContainsKey(a))
            {
                return;
            }

            LayerQuantization q = Quantize(m, bits, a, objective);
            seen[a] = q;
            trials?.Add((a, q.Error, q.WeightSquaredError));
            if (best is null || Better(q, best))
            {
                best = q;
            }
        }

        if (range.Min <= 1.0 && range.Max >= 1.0)
        {
            Try(1.0);
        }

        int steps = Math.Max(1, range.Steps);
        double step = steps == 1 ? (range.Max - range.Min) / 2 : (range.Max - range.Min) / (steps - 1);
        for (int i = 0; i < steps; i++)
        {
            Try(steps == 1 ? range.Min : range.Min + i * step);
        }

        for (int round = 0; round < 2 && step > 0; round++)
        {
            double centre = best!.Exponent;
            for (int k = -4; k <= 4; k++)
            {
                if (k != 0)
                {
                    Try(centre + k * step / 4);
                }
            }

            step /= 4;
        }

        return best!;
    }

    /// <summary>
    /// <see cref="OptimizeCodes"/> on the output error, held to a weight-error budget: if the unconstrained optimum
    /// leaves Σ(w − ŵ)² above <paramref name="weightBudget"/>, the codes are optimised for dᵀ(H + ρI)d instead, with
    /// the least ridge ρ (ρ̄·2^k, ρ̄ the mean of H's diagonal, k from −6 to 10, found by bisection) whose result is within
    /// the budget; if none is, <paramref name="start"/> is kept. The result's <see cref="LayerQuantization.Error"/> is
    /// the plain output error, never above <paramref name="start"/>'s. <paramref name="ridge"/> is the ρ used (0 when
    /// the budget did not bind, NaN when <paramref name="start"/> was kept).
    /// </summary>
    public static LayerQuantization OptimizeCodesWithinBudget(LayerMatrix m, LayerQuantization start, OutputError objective, double weightBudget, out double ridge)
    {
        LayerQuantization free = OptimizeCodes(m, start, objective);
        ridge = 0;
        if (free.WeightSquaredError <= weightBudget)
        {
            return free;
        }

        double unit = objective.MeanDiagonal;
        LayerQuantization? best = null;
        double bestRidge = double.NaN;
        int lo = -6, hi = 10; // the feasible ridge is searched in [2^lo, 2^hi]·unit; weight error falls as ρ grows
        while (lo <= hi && unit > 0)
        {
            int k = (lo + hi) >> 1;
            double rho = unit * Math.Pow(2, k);
            LayerQuantization q = OptimizeCodes(m, start, objective.WithRidge(rho));
            if (q.WeightSquaredError <= weightBudget)
            {
                (best, bestRidge) = (q, rho);
                hi = k - 1;
            }
            else
            {
                lo = k + 1;
            }
        }

        if (best is null)
        {
            ridge = double.NaN;
            return start;
        }

        double plain = Score(m, best.Decoded, objective);
        if (plain > start.Error)
        {
            ridge = double.NaN;
            return start;
        }

        ridge = bestRidge;
        return best with { Error = plain };
    }

    /// <summary>
    /// Moves codes over the whole grid to lower the objective, exponent and scales fixed. Data-free that is the
    /// nearest grid value per weight; with the output error it is coordinate descent per row: for each weight the
    /// grid value with the largest decrease −2δ(Hd)ᵢ + δ²Hᵢᵢ is taken, (Hd) updated, for up to <paramref name="sweeps"/>
    /// sweeps. Deterministic: rows are independent and each row runs in a fixed order. Never increases the objective.
    /// </summary>
    public static LayerQuantization OptimizeCodes(LayerMatrix m, LayerQuantization start, ILayerObjective objective, int sweeps = 4)
    {
        int qMax = NupesGrid.QMax(start.Bits);
        int levels = 2 * qMax + 1;
        float[] lut = start.Lut;
        int[] codes = (int[])start.Codes.Clone();
        float[] decoded = (float[])start.Decoded.Clone();
        int n = m.Length;
        if (objective is not OutputError output)
        {
            Parallel.For(0, m.Channels, c =>
            {
                for (int r = 0; r < n; r++)
                {
                    float s = m.Scale(c, r);
                    int index = NupesGrid.Nearest(lut, qMax, m.Values[c * n + r], s);
                    codes[c * m.PaddedLength + r] = index;
                    decoded[c * n + r] = NupesGrid.Decode(index, lut, s);
                }
            });
        }
        else
        {
            float[] h = output.H;
            double ridge = output.Ridge;
            Parallel.For(0, m.Channels, () => (new float[n], new double[n], new float[levels]), (c, _, buffers) =>
            {
                (float[] diff, double[] g, float[] values) = buffers;
                Span<float> w = decoded.AsSpan(c * n, n);
                TensorPrimitives.Subtract(m.Row(c), w, diff);
                for (int i = 0; i < n; i++)
                {
                    g[i] = TensorPrimitives.Dot(h.AsSpan(i * n, n), diff) + ridge * diff[i];
                }

                int group = -1;
                for (int sweep = 0; sweep < sweeps; sweep++)
                {
                    bool changed = false;
                    for (int i = 0; i < n; i++)
                    {
                        if (i / m.GroupSize != group)
                        {
                            group = i / m.GroupSize;
                            float s = m.Scales[c * m.Groups + group];
                            for (int k = 0; k < levels; k++)
                            {
                                values[k] = NupesGrid.Decode(k, lut, s);
                            }
                        }

                        double hii = h[i * n + i] + ridge;
                        double bestGain = -1e-12 * Math.Max(hii, 1e-30) * values[levels - 1] * values[levels - 1];
                        int bestK = -1;
                        double current = w[i];
                        for (int k = 0; k < levels; k++)
                        {
                            double delta = values[k] - current;
                            double gain = -2 * delta * g[i] + delta * delta * hii;
                            if (gain < bestGain)
                            {
                                (bestGain, bestK) = (gain, k);
                            }
                        }

                        if (bestK >= 0)
                        {
                            double delta = values[bestK] - current;
                            w[i] = values[bestK];
                            codes[c * m.PaddedLength + i] = bestK;
                            ReadOnlySpan<float> column = h.AsSpan(i * n, n); // H is symmetric: row i is column i
                            for (int j = 0; j < n; j++)
                            {
                                g[j] -= delta * column[j];
                            }

                            g[i] -= delta * ridge;

                            changed = true;
                        }
                    }

                    if (!changed)
                    {
                        break;
                    }
                }

                return buffers;
            }, _ => { });
        }

        double error = Score(m, decoded, objective);
        // start.Error may be under another objective (a ridge added here, or the weight error of a start searched on
        // the output error): compare like with like. Float rounding can also make the recomputed total differ in the
        // last bits: keep the start if it is not better.
        double startError = objective is OutputError { Ridge: 0 } ? start.Error : Score(m, start.Decoded, objective);
        return error <= startError
            ? start with { Codes = codes, Decoded = decoded, Error = error, WeightSquaredError = Score(m, decoded, WeightError.Instance) }
            : start with { Error = startError };
    }
}
