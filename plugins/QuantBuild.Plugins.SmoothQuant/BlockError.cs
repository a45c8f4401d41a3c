using System.Numerics.Tensors;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>How the encoder will quantize the linears' inputs and weights, mirrored by fake quantization here.</summary>
/// <param name="UnsignedActivations">Activations stored as uint8 (asymmetric) rather than int8.</param>
/// <param name="SymmetricActivations">Activation zero point fixed at 0.</param>
/// <param name="PerChannelWeights">One weight scale per output channel (else one per tensor).</param>
/// <param name="WeightQMax">Largest weight code: 127, or 63 with reduce-range.</param>
internal sealed record QuantSpec(bool UnsignedActivations, bool SymmetricActivations, bool PerChannelWeights, int WeightQMax)
{
    public static QuantSpec Default { get; } = new(true, false, true, 127);
}

/// <summary>
/// The quantized block's output error for one group of linears: ‖Q(X/s)·Q(diag(s)·W) − X·W‖² / ‖X·W‖², summed over
/// the group's linears, in fp32 with TensorPrimitives. Rows are the captured activation vectors (tokens).
/// </summary>
internal sealed class BlockError
{
    private readonly float[] _x;
    private readonly int _rows;
    private readonly int _k;
    private readonly List<(float[] W, int N, float[] Reference, double Energy)> _linears = new();
    private readonly QuantSpec _spec;

    /// <param name="x">Activations, [rows, K] row-major.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="k">Channels.</param>
    /// <param name="weights">Each linear's weight as [K, N] row-major with its N.</param>
    /// <param name="spec">The target's quantization.</param>
    public BlockError(float[] x, int rows, int k, IEnumerable<(float[] W, int N)> weights, QuantSpec spec)
    {
        _x = x;
        _rows = rows;
        _k = k;
        _spec = spec;
        foreach ((float[] full, int fullN) in weights)
        {
            (float[] w, int n) = spec.PerChannelWeights ? SampleColumns(full, k, fullN, rows) : (full, fullN);
            if (n < fullN)
            {
                SamplingNote += $"{(SamplingNote.Length == 0 ? ", errors on" : ",")} {n} of {fullN} output columns";
            }

            float[] reference = Multiply(x, rows, k, Transpose(w, k, n), n);
            double energy = Math.Max(TensorPrimitives.Dot(reference, reference), 1e-30);
            _linears.Add((w, n, reference, energy));
        }
    }

    /// <summary>Empty, or which linears' errors are measured on sampled output columns (for the log).</summary>
    public string SamplingNote { get; private set; } = string.Empty;

    /// <summary>Relative output error summed over the group's linears with smoothing vector <paramref name="s"/> (null: no smoothing).</summary>
    public double Evaluate(float[]? s)
    {
        var xs = new float[_x.Length];
        if (s is null)
        {
            _x.CopyTo(xs, 0);
        }
        else
        {
            var inverse = new float[_k];
            TensorPrimitives.Divide(1f, s, inverse);
            for (int r = 0; r < _rows; r++)
            {
                TensorPrimitives.Multiply(_x.AsSpan(r * _k, _k), inverse, xs.AsSpan(r * _k, _k));
            }
        }

        FakeQuantizeActivations(xs, _spec);
        double total = 0;
        foreach ((float[] w, int n, float[] reference, double energy) in _linears)
        {
            float[] wt = Transpose(w, _k, n);
            if (s is not null)
            {
                for (int j = 0; j < n; j++)
                {
                    TensorPrimitives.Multiply(wt.AsSpan(j * _k, _k), s, wt.AsSpan(j * _k, _k));
                }
            }

            FakeQuantizeWeights(wt, n, _k, _spec);
            float[] y = Multiply(xs, _rows, _k, wt, n);
            TensorPrimitives.Subtract(y, reference, y);
            total += TensorPrimitives.Dot(y, y) / energy;
        }

        return total;
    }

    /// <summary>Per-tensor activation fake quantization over all rows: asymmetric uint8 or symmetric int8.</summary>
    internal static void FakeQuantizeActivations(Span<float> x, QuantSpec spec)
    {
        float min = MathF.Min(0, TensorPrimitives.Min(x));
        float max = MathF.Max(0, TensorPrimitives.Max(x));
        float scale, zero, qmin, qmax;
        if (spec.SymmetricActivations || !spec.UnsignedActivations)
        {
            float m = MathF.Max(-min, max);
            scale = m / 127f;
            zero = spec.UnsignedActivations ? 128f : 0f;
            qmin = spec.UnsignedActivations ? 0 : -128;
            qmax = spec.UnsignedActivations ? 255 : 127;
        }
        else
        {
            scale = (max - min) / 255f;
            zero = scale > 0 ? MathF.Round(-min / scale, MidpointRounding.ToEven) : 0;
            qmin = 0;
            qmax = 255;
        }

        if (!(scale > 0))
        {
            return;
        }

        Quantize(x, scale, zero, qmin, qmax);
    }

    /// <summary>Symmetric weight fake quantization of a [N, K] (transposed) weight: one scale per output row n, or one in all.</summary>
    internal static void FakeQuantizeWeights(Span<float> wt, int n, int k, QuantSpec spec)
    {
        if (!spec.PerChannelWeights)
        {
            float scale = TensorPrimitives.MaxMagnitude(wt) is float m ? MathF.Abs(m) / spec.WeightQMax : 0;
            if (scale > 0)
            {
                Quantize(wt, scale, 0, -spec.WeightQMax, spec.WeightQMax);
            }

            return;
        }

        for (int j = 0; j < n; j++)
        {
            Span<float> row = wt.Slice(j * k, k);
            float scale = MathF.Abs(TensorPrimitives.MaxMagnitude(row)) / spec.WeightQMax;
            if (scale > 0)
            {
                Quantize(row, scale, 0, -spec.WeightQMax, spec.WeightQMax);
            }
        }
    }

    private static void Quantize(Span<float> x, float scale, float zero, float qmin, float qmax)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float q = Math.Clamp(MathF.Round(x[i] / scale, MidpointRounding.ToEven) + zero, qmin, qmax);
            x[i] = (q - zero) * scale;
        }
    }

    internal static float[] Transpose(float[] w, int k, int n)
    {
        var t = new float[w.Length];
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < n; j++)
            {
                t[j * k + i] = w[i * n + j];
            }
        }

        return t;
    }

    /// <summary>Multiply-adds one linear's error may take per candidate (rows × K × N) before output columns are sampled.</summary>
    internal const long ColumnSampleLimit = 1L << 31;

    /// <summary>Rows multiplied together: each weight row is read once per tile (16 rows of 4096 inputs: 256 KB, within L2).</summary>
    private const int Tile = 16;

    // With per-channel weight scales each output column's error depends on that column alone, so on a large linear
    // (4096 × 4096 on 2048 rows is 16 budgets per candidate) the error is measured on evenly spaced columns, as many as
    // the budget allows (at least 64): the relative error of a sample of columns estimates the whole layer's.
    private static (float[] W, int N) SampleColumns(float[] w, int k, int n, int rows)
    {
        int keep = (int)Math.Min(n, Math.Max(64, ColumnSampleLimit / Math.Max(1L, (long)rows * k)));
        if (keep >= n)
        {
            return (w, n);
        }

        var sampled = new float[(long)k * keep];
        for (int i = 0; i < k; i++)
        {
            for (int c = 0; c < keep; c++)
            {
                sampled[(long)i * keep + c] = w[(long)i * n + (int)((long)c * n / keep)];
            }
        }

        return (sampled, keep);
    }

    /// <summary>[rows, K] · [N, K]ᵀ → [rows, N], tiles of rows in parallel; every element is one Dot, whatever the tiling.</summary>
    internal static float[] Multiply(float[] x, int rows, int k, float[] wt, int n)
    {
        var y = new float[rows * n];
        Parallel.For(0, (rows + Tile - 1) / Tile, t =>
        {
            int r0 = t * Tile, r1 = Math.Min(rows, r0 + Tile);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<float> wj = wt.AsSpan(j * k, k);
                for (int r = r0; r < r1; r++)
                {
                    y[r * n + j] = TensorPrimitives.Dot(x.AsSpan(r * k, k), wj);
                }
            }
        });
        return y;
    }
}
