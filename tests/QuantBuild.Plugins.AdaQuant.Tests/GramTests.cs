using System.Numerics.Tensors;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>The blocked H build gives the bits the per-input axpy gave, so the sample models' numbers do not move.</summary>
public sealed class GramTests
{
    [Theory]
    [InlineData(37, 75, false)]
    [InlineData(512, 300, true)]
    [InlineData(5, 9, true)]
    public void BlockedMomentsEqualThePerInputAxpyBitForBit(int rows, int k, bool cross)
    {
        var rng = new Random(rows + k);
        float[] xq = TestData.CorrelatedRelu(rng, rows, k);
        float[] delta = TestData.Gaussian(rng, (long)rows * k, 0.05f);
        var m = new Moments(k, 1, cross);
        m.Add(0, xq, cross ? delta : null, rows);
        m.Add(0, xq, cross ? delta : null, rows);

        double[] a = new double[k * k], e = new double[k * k], d = new double[k * k];
        for (int chunk = 0; chunk < 2; chunk++)
        {
            PerInputAxpy(a, e, d, xq, cross ? delta : null, rows, k);
        }

        for (int i = 0; i < k; i++)
        {
            for (int j = i; j < k; j++)
            {
                Assert.Equal(a[i * k + j], m.A[0][i * k + j]);
                if (cross)
                {
                    Assert.Equal(d[i * k + j], m.D[0][i * k + j]);
                }
            }
        }

        if (cross)
        {
            Assert.Equal(e, m.E[0]);
        }
    }

    [Fact]
    public void GemmResultDoesNotDependOnHowRowsAndColumnsAreSplit()
    {
        var rng = new Random(3);
        int m = 13, n = 77, depth = 41;
        float[] a = TestData.Gaussian(rng, m * depth);
        float[] b = TestData.Gaussian(rng, depth * n);
        var whole = new float[m * n];
        Gemm.Multiply<Gemm.Fused>(a, depth, 1, b, n, whole, n, m, n, depth, accumulate: false);
        var pieces = new float[m * n];
        foreach ((int i0, int i1) in new[] { (0, 5), (5, 6), (6, 13) })
        {
            foreach ((int j0, int j1) in new[] { (0, 3), (3, 40), (40, 77) })
            {
                Gemm.Multiply<Gemm.Fused>(a.AsSpan(i0 * depth), depth, 1, b.AsSpan(j0), n, pieces.AsSpan(i0 * n + j0), n, i1 - i0, j1 - j0, depth, accumulate: false);
            }
        }

        Assert.Equal(whole, pieces);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < depth; p++)
                {
                    s = MathF.FusedMultiplyAdd(a[i * depth + p], b[p * n + j], s);
                }

                Assert.Equal(s, whole[i * n + j]);
            }
        }
    }

    // The H build as it was before the blocked kernel: per input i, an axpy over the chunk's rows in float, then added in double.
    private static void PerInputAxpy(double[] a, double[] e, double[] d, float[] xq, float[]? delta, int rows, int k)
    {
        var t = new float[k];
        for (int i = 0; i < k; i++)
        {
            Span<float> ti = t.AsSpan(0, k - i);
            ti.Clear();
            for (int r = 0; r < rows; r++)
            {
                float v = xq[r * k + i];
                if (v != 0f)
                {
                    TensorPrimitives.MultiplyAdd(xq.AsSpan(r * k + i, k - i), v, ti, ti);
                }
            }

            for (int j = 0; j < ti.Length; j++)
            {
                a[i * k + i + j] += ti[j];
            }

            if (delta is null)
            {
                continue;
            }

            t.AsSpan().Clear();
            for (int r = 0; r < rows; r++)
            {
                float v = xq[r * k + i];
                if (v != 0f)
                {
                    TensorPrimitives.MultiplyAdd(delta.AsSpan(r * k, k), v, t, t);
                }
            }

            for (int j = 0; j < k; j++)
            {
                e[i * k + j] += t[j];
            }

            ti.Clear();
            for (int r = 0; r < rows; r++)
            {
                float v = delta[r * k + i];
                if (v != 0f)
                {
                    TensorPrimitives.MultiplyAdd(delta.AsSpan(r * k + i, k - i), v, ti, ti);
                }
            }

            for (int j = 0; j < ti.Length; j++)
            {
                d[i * k + i + j] += ti[j];
            }
        }
    }
}
