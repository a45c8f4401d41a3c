using System.Numerics.Tensors;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// A layer's output error as a function of its quantized weights Ŵ, from second moments only. Per output channel o,
/// with d = ŵ_o − w_o, the error summed over the N input rows is
/// <c>L_o(ŵ) = dᵀA d + 2 dᵀe_o + c_o</c>, where A = Σx̃x̃ᵀ, e_o = Σx̃Δᵀ·w_o and c_o = w_oᵀΣΔΔᵀw_o (e = c = 0 when the
/// layer sees the fp32 input, so L = ||W X − Ŵ X||²). With bias correction the moments are centred and the bias
/// absorbs the mean error. Channels are independent, so every row is optimised on its own and in parallel.
/// </summary>
internal sealed class LayerObjective
{
    private LayerObjective(int rows, int k, int groups, long n, bool centered)
    {
        Rows = rows;
        K = k;
        Groups = groups;
        N = n;
        Centered = centered;
        A = new float[groups][];
        MeanX = new double[groups][];
        MeanDelta = new double[groups][];
        W = [];
        Cross = [];
        C0 = new double[rows];
    }

    public int Rows { get; }

    public int K { get; }

    public int Groups { get; }

    /// <summary>Input rows (samples × positions) behind the moments.</summary>
    public long N { get; }

    /// <summary>Whether the moments are centred (the bias absorbs the mean error).</summary>
    public bool Centered { get; }

    /// <summary>A per group, full symmetric K×K.</summary>
    public float[][] A { get; }

    /// <summary>The fp32 weights as [Rows, K].</summary>
    public float[] W { get; private set; }

    /// <summary>e_o per row, [Rows, K] (all zero in parallel mode).</summary>
    public float[] Cross { get; private set; }

    /// <summary>c_o per row: the error left at ŵ = w (from the inputs alone).</summary>
    public double[] C0 { get; }

    public double[][] MeanX { get; }

    public double[][] MeanDelta { get; }

    /// <summary>Per group, the (centred) input rows F with A = FᵀF, when there are fewer rows than inputs; else null.</summary>
    public float[]?[] Factor { get; private set; } = [];

    public int GroupOf(int row) => row / (Rows / Groups);

    /// <summary>Builds the objective of weights <paramref name="w"/> ([rows, K]) from <paramref name="m"/>.</summary>
    public static LayerObjective Build(Moments m, float[] w, int rows, bool centered)
    {
        int k = m.K;
        var o = new LayerObjective(rows, k, m.Groups, m.N, centered) { W = w, Cross = new float[(long)rows * k] };
        double n = Math.Max(1, m.N);
        for (int g = 0; g < m.Groups; g++)
        {
            double[] mx = m.SumX[g].Select(v => v / n).ToArray();
            double[] md = m.SumDelta[g].Select(v => v / n).ToArray();
            o.MeanX[g] = mx;
            o.MeanDelta[g] = md;
            var a = new float[(long)k * k];
            double[] src = m.A[g];
            for (int i = 0; i < k; i++)
            {
                for (int j = i; j < k; j++)
                {
                    double v = src[(long)i * k + j] - (centered ? n * mx[i] * mx[j] : 0);
                    a[(long)i * k + j] = (float)v;
                    a[(long)j * k + i] = (float)v;
                }
            }

            o.A[g] = a;
        }

        if (m.Kept.Length == m.Groups && m.Kept.All(f => f is not null))
        {
            o.Factor = new float[]?[m.Groups];
            for (int g = 0; g < m.Groups; g++)
            {
                float[] f = (float[])m.Kept[g]!.Clone();
                if (centered)
                {
                    float[] mean = o.MeanX[g].Select(v => (float)v).ToArray();
                    for (long r = 0; r < m.N; r++)
                    {
                        Span<float> row = f.AsSpan((int)(r * k), k);
                        TensorPrimitives.Subtract(row, mean, row);
                    }
                }

                o.Factor[g] = f;
            }
        }

        if (m.Cross)
        {
            Parallel.For(0, rows, r =>
            {
                int g = o.GroupOf(r);
                double[] e = m.E[g], d = m.D[g], mx = o.MeanX[g], md = o.MeanDelta[g];
                ReadOnlySpan<float> wr = w.AsSpan(r * k, k);
                double c = 0;
                for (int i = 0; i < k; i++)
                {
                    double ei = 0;
                    for (int j = 0; j < k; j++)
                    {
                        double eij = e[(long)i * k + j] - (centered ? n * mx[i] * md[j] : 0);
                        ei += eij * wr[j];
                    }

                    o.Cross[(long)r * k + i] = (float)ei;
                    double di = 0;
                    for (int j = 0; j < k; j++)
                    {
                        double dij = (j >= i ? d[(long)i * k + j] : d[(long)j * k + i]) - (centered ? n * md[i] * md[j] : 0);
                        di += dij * wr[j];
                    }

                    c += wr[i] * di;
                }

                o.C0[r] = Math.Max(0, c);
            });
        }

        return o;
    }

    /// <summary>L_o at <paramref name="what"/> (the quantized row in float).</summary>
    public double Loss(int row, ReadOnlySpan<float> what)
    {
        int k = K;
        var d = new float[k];
        TensorPrimitives.Subtract(what, W.AsSpan(row * k, k), d);
        var g = new float[k];
        ApplyRow(row, d, g);
        return LossFrom(row, d, g);
    }

    /// <summary>L_o of row <paramref name="row"/> from d = ŵ − w and g = A·d already computed: dᵀg + 2dᵀe_o + c_o.</summary>
    public double LossFrom(int row, ReadOnlySpan<float> d, ReadOnlySpan<float> g) =>
        TensorPrimitives.Dot(d, g) + 2.0 * TensorPrimitives.Dot(d, Cross.AsSpan(row * K, K)) + C0[row];

    /// <summary>The mean output error z̄ the bias absorbs (b̂ = b − z̄) when centred.</summary>
    public double MeanError(int row, ReadOnlySpan<float> what)
    {
        int k = K;
        int g = GroupOf(row);
        double z = 0;
        ReadOnlySpan<float> w = W.AsSpan(row * k, k);
        for (int j = 0; j < k; j++)
        {
            z += (what[j] - w[j]) * MeanX[g][j] + w[j] * MeanDelta[g][j];
        }

        return z;
    }

    /// <summary>L_o without bias correction (what the layer errs when its bias is left alone).</summary>
    public double UncorrectedLoss(int row, ReadOnlySpan<float> what)
    {
        double loss = Loss(row, what);
        if (!Centered)
        {
            return loss;
        }

        double z = MeanError(row, what);
        return loss + N * z * z;
    }

    /// <summary>g_r = A·d_r for rows <paramref name="r0"/>…<paramref name="r1"/> of one group, d and g laid out [Rows, K].</summary>
    public void Apply(int r0, int r1, float[] d, float[] g)
    {
        int group = GroupOf(r0);
        if (Factor.Length > 0 && Factor[group] is { } f)
        {
            FactorApplyTile(f, K, d, g, r0, r1);
            return;
        }

        MatVecTile(A[group], K, d, g, r0, r1);
    }

    /// <summary>g = A·d for one row.</summary>
    public void ApplyRow(int row, ReadOnlySpan<float> d, Span<float> g)
    {
        int group = GroupOf(row);
        if (Factor.Length > 0 && Factor[group] is { } f)
        {
            FactorApply(f, K, d, g);
        }
        else
        {
            MatVec(A[group], K, d, g);
        }
    }

    // The same for a tile of rows: each row of F is read once per tile (it stays in L1 across the tile's rows), and
    // every row's sums run in the same order as FactorApply, so the result is identical.
    private static void FactorApplyTile(float[] f, int k, float[] d, float[] g, int r0, int r1)
    {
        int n = f.Length / k;
        for (int r = r0; r < r1; r++)
        {
            g.AsSpan(r * k, k).Clear();
        }

        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> fi = f.AsSpan(i * k, k);
            for (int r = r0; r < r1; r++)
            {
                float y = TensorPrimitives.Dot(fi, d.AsSpan(r * k, k));
                if (y != 0f)
                {
                    Span<float> gr = g.AsSpan(r * k, k);
                    TensorPrimitives.MultiplyAdd(fi, y, gr, gr);
                }
            }
        }
    }

    // g = Fᵀ(F·d): 2·N·K instead of K² when N < K.
    private static void FactorApply(float[] f, int k, ReadOnlySpan<float> d, Span<float> g)
    {
        int n = f.Length / k;
        g.Clear();
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> fr = f.AsSpan(r * k, k);
            float y = TensorPrimitives.Dot(fr, d);
            if (y != 0f)
            {
                TensorPrimitives.MultiplyAdd(fr, y, g, g);
            }
        }
    }

    /// <summary>g = A·d for one row (A symmetric).</summary>
    public static void MatVec(float[] a, int k, ReadOnlySpan<float> d, Span<float> g)
    {
        g.Clear();
        for (int i = 0; i < k; i++)
        {
            float v = d[i];
            if (v != 0f)
            {
                TensorPrimitives.MultiplyAdd(a.AsSpan(i * k, k), v, g, g);
            }
        }
    }

    /// <summary>g_r = A·d_r for the rows <paramref name="r0"/>…<paramref name="r1"/> (one group) at once: each row of A is read once per tile.</summary>
    public static void MatVecTile(float[] a, int k, float[] d, float[] g, int r0, int r1)
    {
        for (int r = r0; r < r1; r++)
        {
            g.AsSpan(r * k, k).Clear();
        }

        for (int i = 0; i < k; i++)
        {
            ReadOnlySpan<float> ai = a.AsSpan(i * k, k);
            for (int r = r0; r < r1; r++)
            {
                float v = d[(long)r * k + i];
                if (v != 0f)
                {
                    Span<float> gr = g.AsSpan(r * k, k);
                    TensorPrimitives.MultiplyAdd(ai, v, gr, gr);
                }
            }
        }
    }
}
