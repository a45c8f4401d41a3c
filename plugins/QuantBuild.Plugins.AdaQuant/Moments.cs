using System.Numerics.Tensors;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// The second moments a linear layer's output error needs, per weight group (conv groups; one for Gemm and MatMul),
/// accumulated over input rows x̃ (what the quantized layer sees) and Δ = x̃ − x (how far that is from the fp32
/// input; zero in parallel mode): A = Σ x̃x̃ᵀ, E = Σ x̃Δᵀ, D = Σ ΔΔᵀ and the sums Σx̃, ΣΔ. Chunks are multiplied in
/// float and added in double (<see cref="Gram"/>); every entry's sum has a fixed order, so the result does not depend on scheduling.
/// </summary>
internal sealed class Moments
{
    public Moments(int k, int groups, bool cross)
    {
        K = k;
        Groups = groups;
        Cross = cross;
        A = new double[groups][];
        E = new double[groups][];
        D = new double[groups][];
        SumX = new double[groups][];
        SumDelta = new double[groups][];
        for (int g = 0; g < groups; g++)
        {
            A[g] = new double[(long)k * k];
            SumX[g] = new double[k];
            SumDelta[g] = new double[k];
            E[g] = cross ? new double[(long)k * k] : [];
            D[g] = cross ? new double[(long)k * k] : [];
        }
    }

    /// <summary>Input length per row (Cin/group · kh · kw for Conv).</summary>
    public int K { get; }

    public int Groups { get; }

    /// <summary>True when x̃ differs from x (sequential mode): E and D are kept.</summary>
    public bool Cross { get; }

    /// <summary>Rows seen per group.</summary>
    public long N { get; private set; }

    public double[][] A { get; }

    public double[][] E { get; }

    public double[][] D { get; }

    public double[][] SumX { get; }

    public double[][] SumDelta { get; }

    /// <summary>The x̃ rows themselves per group, when <see cref="Retain"/> asked for them (few rows, wide layer).</summary>
    public float[]?[] Kept { get; private set; } = [];

    private long _kept;

    /// <summary>Keeps the <paramref name="totalRows"/> x̃ rows of each group as well, so that A = XᵀX can be applied as Xᵀ(X·d) in O(N·K) when N &lt; K.</summary>
    public void Retain(long totalRows)
    {
        Kept = new float[]?[Groups];
        for (int g = 0; g < Groups; g++)
        {
            Kept[g] = new float[totalRows * K];
        }
    }

    /// <summary>Adds <paramref name="rows"/> rows of group <paramref name="group"/>: x̃ row-major [rows, K] and, when <see cref="Cross"/>, Δ likewise.</summary>
    public void Add(int group, float[] xq, float[]? delta, int rows)
    {
        int k = K;
        Gram.Add(A[group], xq, xq, rows, k, upper: true);
        if (Cross && delta is not null)
        {
            Gram.Add(E[group], xq, delta, rows, k, upper: false);
            Gram.Add(D[group], delta, delta, rows, k, upper: true);
        }

        double[] sx = SumX[group], sd = SumDelta[group];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < k; j++)
            {
                sx[j] += xq[(long)r * k + j];
                if (Cross && delta is not null)
                {
                    sd[j] += delta[(long)r * k + j];
                }
            }
        }

        if (Kept.Length > 0 && Kept[group] is { } kept)
        {
            long offset = (group == 0 ? N : _kept) * k;
            Array.Copy(xq, 0, kept, offset, (long)rows * k);
            _kept = group == 0 ? N + rows : _kept + rows;
        }

        if (group == 0)
        {
            N += rows;
        }
    }
}
