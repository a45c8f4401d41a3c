namespace QuantBuild.Runtime.Tests.Support;

/// <summary>Plain C# versions of the ops the tests run, written for clarity, to check ONNX Runtime's numbers against.</summary>
internal static class Reference
{
    /// <summary>Y[m,n] = alpha * sum_k A[m,k] B[k,n] + beta * C[n] (C broadcast over rows, optional).</summary>
    public static float[] Gemm(float[] a, float[] b, float[]? c, int m, int k, int n, float alpha = 1f, float beta = 1f)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[i * k + p] * b[p * n + j];
                }

                y[i * n + j] = (float)(alpha * sum + (c is null ? 0 : beta * c[j]));
            }
        }

        return y;
    }

    public static float[] Relu(float[] x) => Array.ConvertAll(x, v => Math.Max(v, 0f));

    /// <summary>2-D convolution, NCHW input, OIHW weights, symmetric padding, no dilation or groups.</summary>
    public static float[] Conv2d(
        float[] x, int n, int c, int h, int w,
        float[] weights, int outChannels, int kh, int kw,
        float[]? bias, int stride, int pad, out int outH, out int outW)
    {
        outH = (h + 2 * pad - kh) / stride + 1;
        outW = (w + 2 * pad - kw) / stride + 1;
        var y = new float[n * outChannels * outH * outW];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int ci = 0; ci < c; ci++)
                        {
                            for (int ky = 0; ky < kh; ky++)
                            {
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * stride - pad + ky;
                                    int ix = ox * stride - pad + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    {
                                        continue;
                                    }

                                    sum += (double)x[((b * c + ci) * h + iy) * w + ix] * weights[((o * c + ci) * kh + ky) * kw + kx];
                                }
                            }
                        }

                        y[((b * outChannels + o) * outH + oy) * outW + ox] = (float)sum;
                    }
                }
            }
        }

        return y;
    }

    /// <summary>QuantizeLinear then DequantizeLinear to uint8 (round half to even, saturate), as ONNX defines them.</summary>
    public static float[] FakeQuantU8(float[] x, float scale, byte zeroPoint) => Array.ConvertAll(
        x, v => (float)(Math.Clamp(Math.Round(v / scale, MidpointRounding.ToEven) + zeroPoint, 0, 255) - zeroPoint) * scale);

    /// <summary>Deterministic values in [-1, 1) so failures reproduce.</summary>
    public static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(
                Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance})");
        }
    }
}
