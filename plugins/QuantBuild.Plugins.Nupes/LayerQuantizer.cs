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

    /// <summary>
    /// <paramref name="count"/> evenly spaced channels (c = ⌊k·Channels/count⌋) as a layer of their own, with the same
    /// grouping and therefore the same scales: what the exponent and the ridge are chosen on when a layer is large.
    /// </summary>
    public LayerMatrix SampleChannels(int count)
    {
        if (count >= Channels)
        {
            return this;
        }

        var values = new float[(long)count * Length];
        for (int k = 0; k < count; k++)
        {
            Row((int)((long)k * Channels / count)).CopyTo(values.AsSpan(k * Length, Length));
        }

        return new LayerMatrix(values, count, Length, GroupSize);
    }

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

    /// <summary>
    /// <see cref="RowError"/> of <paramref name="rows"/> rows at once (diffs laid out [rows, Length]), each with exactly
    /// the same operations in the same order, but H is read once per tile instead of once per row: at 4096 inputs H is
    /// 64 MB, and reading it per row made the score memory-bound (minutes per candidate exponent).
    /// </summary>
    public void TileErrors(ReadOnlySpan<float> diffs, int rows, Span<double> errors)
    {
        int n = Length;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> d = diffs.Slice(r * n, n);
            errors[r] = Ridge == 0 ? 0 : Ridge * TensorPrimitives.Dot(d, d);
        }

        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> hi = H.AsSpan(i * n, n);
            for (int r = 0; r < rows; r++)
            {
                float di = diffs[r * n + i];
                if (di != 0)
                {
                    errors[r] += di * (double)TensorPrimitives.Dot(hi, diffs.Slice(r * n, n));
                }
            }
        }
    }

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
    /// <summary>Rows scored together per read of H (32 rows of 4096 inputs: 512 KB of differences, within L2).</summary>
    private const int ScoreTile = 32;

    /// <summary>Codes every weight with the formula at exponent <paramref name="exponent"/> and scores the result.</summary>
    public static LayerQuantization Quantize(LayerMatrix m, int bits, double exponent, ILayerObjective objective)
    {
        LayerQuantization q = Code(m, bits, exponent);
        return q with { Error = Score(m, q.Decoded, objective) };
    }

    /// <summary>Codes every weight at exponent <paramref name="exponent"/>, scoring only the weight error (<see cref="LayerQuantization.Error"/> is NaN): on a large layer the objective is a pass over H.</summary>
    public static LayerQuantization Code(LayerMatrix m, int bits, double exponent)
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

        return new LayerQuantization(bits, exponent, lut, codes, decoded, double.NaN, Score(m, decoded, WeightError.Instance));
    }

    /// <summary>The objective summed over rows (rows in parallel, summed in order so the total is deterministic).</summary>
    public static double Score(LayerMatrix m, float[] decoded, ILayerObjective objective)
    {
        var rows = new double[m.Channels];
        int n = m.Length;
        if (objective is OutputError output)
        {
            // Tiles of rows share each read of H; every row's sum is the one RowError computes.
            Parallel.For(0, (m.Channels + ScoreTile - 1) / ScoreTile, () => new float[ScoreTile * n], (t, _, diff) =>
            {
                int c0 = t * ScoreTile, count = Math.Min(ScoreTile, m.Channels - c0);
                for (int r = 0; r < count; r++)
                {
                    TensorPrimitives.Subtract(m.Row(c0 + r), decoded.AsSpan((c0 + r) * n, n), diff.AsSpan(r * n, n));
                }

                output.TileErrors(diff.AsSpan(0, count * n), count, rows.AsSpan(c0, count));
                return diff;
            }, _ => { });
        }
        else
        {
            Parallel.For(0, m.Channels, () => new float[n], (c, _, diff) =>
            {
                TensorPrimitives.Subtract(m.Row(c), decoded.AsSpan(c * n, n), diff);
                rows[c] = objective.RowError(c, diff);
                return diff;
            }, _ => { });
        }

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
    /// <c>OptimizeCodes</c> on the output error, held to a weight-error budget: if the unconstrained optimum
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
        if (!(plain <= start.Error))
        {
            ridge = double.NaN;
            return start;
        }

        ridge = bestRidge;
        return best with { Error = plain };
    }

    /// <summary>
    /// Moves codes over the whole grid to lower the objective, exponent and scales fixed. Data-free that is the
    /// nearest grid value per weight; with the output error it is coordinate descent per row (<see cref="CodeDescent"/>):
    /// for each weight the grid value with the largest decrease −2δ(Hd)ᵢ + δ²Hᵢᵢ is taken, (Hd) updated, for up to
    /// <paramref name="sweeps"/> sweeps. Deterministic: rows are independent and each row runs in a fixed order. Never
    /// increases the objective.
    /// </summary>
    public static LayerQuantization OptimizeCodes(LayerMatrix m, LayerQuantization start, ILayerObjective objective, int sweeps = 4) =>
        OptimizeCodes(m, start, objective, sweeps, IsLarge(m), out _, out _);

    /// <summary>
    /// <see cref="OptimizeCodes(LayerMatrix, LayerQuantization, ILayerObjective, int)"/>, also giving the result's plain
    /// output error dᵀHd (without the ridge) in <paramref name="plainError"/> and the start's in
    /// <paramref name="startPlainError"/> (NaN for the weight error, and for a ridged objective unless
    /// <paramref name="tracked"/>). <paramref name="tracked"/> (the default on layers where a full score costs more than
    /// <see cref="ExactScoreLimit"/> multiply-adds) takes the errors the descent tracked from its H·d instead of more
    /// passes over H (equal up to float rounding).
    /// <paramref name="startProducts"/> (<see cref="CodeDescent.StartProducts"/> of <paramref name="start"/>) saves the
    /// pass over H when the caller descends the same start more than once.
    /// </summary>
    public static LayerQuantization OptimizeCodes(LayerMatrix m, LayerQuantization start, ILayerObjective objective, int sweeps, bool tracked, out double plainError, out double startPlainError, float[]? startProducts = null)
    {
        int qMax = NupesGrid.QMax(start.Bits);
        float[] lut = start.Lut;
        int[] codes = (int[])start.Codes.Clone();
        float[] decoded = (float[])start.Decoded.Clone();
        int n = m.Length;
        plainError = startPlainError = double.NaN;
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
            double nearest = Score(m, decoded, objective);
            double before = Score(m, start.Decoded, objective);
            return nearest <= before
                ? start with { Codes = codes, Decoded = decoded, Error = nearest, WeightSquaredError = Score(m, decoded, WeightError.Instance) }
                : start with { Error = before };
        }

        CodeDescent.Errors descent = CodeDescent.Run(m, lut, start.Bits, output, sweeps, codes, decoded, startProducts);
        double error, startError, plain, startPlain;
        if (tracked)
        {
            (error, startError, plain, startPlain) = (Sum(descent.End), Sum(descent.Start), Sum(descent.EndPlain), Sum(descent.StartPlain));
        }
        else
        {
            // start.Error may be under another objective (a ridge added here, or the weight error of a start searched on
            // the output error): compare like with like. Float rounding can also make the recomputed total differ in the
            // last bits: keep the start if it is not better. (The plain error of a ridged result is scored by the caller.)
            error = Score(m, decoded, objective);
            startError = output.Ridge == 0 ? start.Error : Score(m, start.Decoded, objective);
            plain = output.Ridge == 0 ? error : double.NaN;
            startPlain = output.Ridge == 0 ? startError : double.NaN;
        }

        startPlainError = startPlain;
        if (error <= startError)
        {
            plainError = plain;
            return start with { Codes = codes, Decoded = decoded, Error = error, WeightSquaredError = Score(m, decoded, WeightError.Instance) };
        }

        plainError = startPlain;
        return start with { Error = startError };
    }

    /// <summary>Multiply-adds (channels × length²) above which a layer's scores come from the descent's own H·d and its exponent search from sampled channels.</summary>
    public const long ExactScoreLimit = 1L << 31;

    /// <summary>Whether one full score of <paramref name="m"/> costs more than <see cref="ExactScoreLimit"/>.</summary>
    public static bool IsLarge(LayerMatrix m) => (long)m.Channels * m.Length * m.Length > ExactScoreLimit;

    private static double Sum(double[] values)
    {
        double total = 0;
        foreach (double v in values)
        {
            total += v;
        }

        return total;
    }
}
