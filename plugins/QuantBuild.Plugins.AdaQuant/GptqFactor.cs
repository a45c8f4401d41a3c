using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// What GPTQ needs from H, in the order the inputs are quantized: H + λI = Ũ·D̃·Ũᵀ with Ũ unit upper triangular.
/// GPTQ's update of the inputs not yet quantized, through the upper Cholesky factor of H⁻¹, equals adding the
/// rounding errors so far times Ũ (w'_j = w_j + Σ_{i&lt;j} (w_i − q_i)·Ũ_ij; the "LDL" form QuIP points out), so Ũ
/// comes from one Cholesky factor of H in reverse order and no inverse is formed. Inputs that are always zero
/// (H_jj ≤ 0) are dead: their row and column of H are cleared to the identity and their weights quantize to 0.
/// </summary>
internal sealed class GptqFactor
{
    /// <summary>The damping multiples tried after <c>damping</c> itself (×10, ×100, ×1000) before giving up.</summary>
    public const int Retries = 3;

    private GptqFactor(int k, int[] order, bool[] dead, float[] u, double[] d, double damping)
    {
        K = k;
        Order = order;
        Dead = dead;
        U = u;
        D = d;
        Damping = damping;
    }

    public int K { get; }

    /// <summary>Position p is quantized p-th and holds the original input Order[p].</summary>
    public int[] Order { get; }

    /// <summary>Per position: the input is dead.</summary>
    public bool[] Dead { get; }

    /// <summary>Ũ's strictly upper part, [K, K] row-major, in quantization order (the diagonal and below are zero).</summary>
    public float[] U { get; }

    /// <summary>D̃ per position.</summary>
    public double[] D { get; }

    /// <summary>The damping that factored, as a fraction of H's mean diagonal.</summary>
    public double Damping { get; }

    /// <summary>Factors <paramref name="h"/> ([k, k], symmetric) with the damping raised ×10 up to <see cref="Retries"/> times; QB2304 if none factors.</summary>
    public static GptqFactor Create(float[] h, int k, double damping, bool actOrder, string layer)
    {
        var dead = new bool[k];
        double mean = 0;
        int live = 0;
        for (int j = 0; j < k; j++)
        {
            double v = h[((long)j * k) + j];
            dead[j] = !(v > 0);
            if (!dead[j])
            {
                mean += v;
                live++;
            }
        }

        mean = live > 0 ? mean / live : 1;
        int[] order = Enumerable.Range(0, k).ToArray();
        if (actOrder)
        {
            // Decreasing H_jj, ties by index: a fixed order whatever the sort's internals.
            order = order.OrderByDescending(j => dead[j] ? double.NegativeInfinity : h[((long)j * k) + j]).ThenBy(j => j).ToArray();
        }

        var lower = new double[(long)k * k];
        double lambda = damping;
        for (int attempt = 0; attempt <= Retries; attempt++, lambda *= 10)
        {
            // The reversed, reordered matrix R[a, b] = H[o(k−1−a), o(k−1−b)]: its lower factor L gives Ũ D̃^½ = J·L·J.
            for (int a = 0; a < k; a++)
            {
                int ia = order[k - 1 - a];
                for (int b = 0; b <= a; b++)
                {
                    int ib = order[k - 1 - b];
                    double v = dead[ia] || dead[ib] ? (ia == ib ? 1 : 0) : h[((long)ia * k) + ib];
                    lower[((long)a * k) + b] = a == b ? v + (lambda * mean) : v;
                }
            }

            if (Cholesky.TryFactor(lower, k))
            {
                return FromLower(k, order, dead.Select((_, p) => dead[order[p]]).ToArray(), lower, lambda);
            }
        }

        throw new QuantBuildException("QB2304",
            string.Create(CultureInfo.InvariantCulture,
                $"adaquant: {layer}: H is not positive definite even with gptq's damping raised to {lambda / 10:G3} × its mean diagonal (its inputs hold NaN or infinite values, or H lost precision)."),
            "check the calibration data for NaN/Inf activations at this layer, or use 'solver: gradient' for it");
    }

    private static GptqFactor FromLower(int k, int[] order, bool[] deadByPosition, double[] lower, double lambda)
    {
        // V = J·L·J is upper with H = V·Vᵀ: V[p, q] = L[k−1−p, k−1−q]; Ũ = V·diag(V)⁻¹, D̃ = diag(V)².
        var u = new float[(long)k * k];
        var d = new double[k];
        for (int q = 0; q < k; q++)
        {
            long lq = (long)(k - 1 - q) * k;
            double vqq = lower[lq + (k - 1 - q)];
            d[q] = vqq * vqq;
        }

        Parallel.For(0, k, p =>
        {
            int lp = k - 1 - p;
            for (int q = p + 1; q < k; q++)
            {
                int lq = k - 1 - q;
                // L[lp, lq] with lq < lp is in the lower triangle.
                u[((long)p * k) + q] = (float)(lower[((long)lp * k) + lq] / Math.Sqrt(d[q]));
            }
        });

        return new GptqFactor(k, order, deadByPosition, u, d, lambda);
    }
}
