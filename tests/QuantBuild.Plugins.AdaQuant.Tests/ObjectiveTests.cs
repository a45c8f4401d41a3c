using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>The H-based objective equals the output error computed sample by sample.</summary>
public sealed class ObjectiveTests
{
    private static LayerObjective Build(float[] xq, float[]? xf, int n, int k, float[] w, int rows, bool centered)
    {
        var m = new Moments(k, 1, xf is not null);
        float[]? delta = xf is null ? null : xq.Select((v, i) => v - xf[i]).ToArray();
        if (n * 2 < k)
        {
            m.Retain(n);
        }

        m.Add(0, xq, delta, n);
        return LayerObjective.Build(m, w, rows, centered);
    }

    private static double Total(LayerObjective o, float[] what, int rows, int k) =>
        Enumerable.Range(0, rows).Sum(r => o.Loss(r, what.AsSpan(r * k, k)));

    [Theory]
    [InlineData(200, 24, 6)]   // more rows than inputs: A = Σxxᵀ
    [InlineData(10, 48, 5)]    // fewer rows than inputs: A applied as Xᵀ(X·d)
    public void HBasedLossEqualsDirectError(int n, int k, int rows)
    {
        var rng = new Random(7);
        float[] x = TestData.Gaussian(rng, (long)n * k);
        float[] w = TestData.Gaussian(rng, (long)rows * k, 0.2f);
        float[] what = w.Select(v => MathF.Round(v * 10) / 10).ToArray();
        LayerObjective o = Build(x, null, n, k, w, rows, centered: false);
        double direct = TestData.DirectError(x, x, n, k, w, what, rows);
        Assert.Equal(direct, Total(o, what, rows, k), direct * 1e-4);
    }

    [Fact]
    public void SequentialLossEqualsDirectErrorAgainstFp32Inputs()
    {
        var rng = new Random(8);
        int n = 300, k = 16, rows = 4;
        float[] x = TestData.Gaussian(rng, (long)n * k);
        float[] xq = x.Select((v, i) => v + 0.05f * MathF.Sin(i)).ToArray();
        float[] w = TestData.Gaussian(rng, (long)rows * k, 0.3f);
        float[] what = w.Select(v => MathF.Round(v * 8) / 8).ToArray();
        LayerObjective o = Build(xq, x, n, k, w, rows, centered: false);
        double direct = TestData.DirectError(x, xq, n, k, w, what, rows);
        Assert.Equal(direct, Total(o, what, rows, k), direct * 1e-4);
    }

    [Fact]
    public void CentredLossIsTheErrorWithTheCorrectedBias()
    {
        var rng = new Random(9);
        int n = 400, k = 12, rows = 3;
        float[] x = TestData.CorrelatedRelu(rng, n, k);
        float[] w = TestData.Gaussian(rng, (long)rows * k, 0.3f);
        float[] what = w.Select(v => MathF.Round(v * 4) / 4).ToArray();
        LayerObjective o = Build(x, null, n, k, w, rows, centered: true);
        // b̂ − b = −z̄: the bias the pass writes.
        float[] delta = Enumerable.Range(0, rows).Select(r => (float)-o.MeanError(r, what.AsSpan(r * k, k))).ToArray();
        double direct = TestData.DirectError(x, x, n, k, w, what, rows, delta);
        Assert.Equal(direct, Total(o, what, rows, k), direct * 1e-3);
        double uncorrected = TestData.DirectError(x, x, n, k, w, what, rows);
        Assert.Equal(uncorrected, Enumerable.Range(0, rows).Sum(r => o.UncorrectedLoss(r, what.AsSpan(r * k, k))), uncorrected * 1e-3);
        Assert.True(direct < uncorrected);
    }

    [Fact]
    public void ConvPatchesGiveTheConvolutionsOutputError()
    {
        // Conv 3→4 channels, 3×3, stride 2, pads (1,0,0,1), dilation 1, on 2 samples of 7×6.
        var rng = new Random(10);
        int n = 2, c = 3, h = 7, wd = 6, m = 4, kh = 3, kw = 3;
        float[] x = TestData.Gaussian(rng, n * c * h * wd);
        float[] w = TestData.Gaussian(rng, m * c * kh * kw, 0.3f);
        float[] what = w.Select(v => MathF.Round(v * 5) / 5).ToArray();
        var node = new Node { OpType = "Conv", Name = "conv" };
        node.Inputs.AddRange(["x", "w"]);
        node.Outputs.Add("y");
        node.Attributes.Add(NodeAttribute.FromInts("strides", 2, 2));
        node.Attributes.Add(NodeAttribute.FromInts("pads", 1, 0, 0, 1));
        TensorValue weight = TensorValue.FromFloats("w", w, m, c, kh, kw);
        var graph = new Graph();
        graph.Nodes.Add(node);
        graph.Initializers.Add(weight);
        LayerShape shape = LayerShape.TryCreate(new GraphIndex(graph), node, out _)!;
        var input = DenseTensor.FromFloats(x, n, c, h, wd);
        var moments = new Moments(shape.K, 1, false);
        shape.Accumulate(input, input, moments, CancellationToken.None);
        LayerObjective o = LayerObjective.Build(moments, shape.Matrix(), m, centered: false);

        double direct = 0;
        int oh = (h + 1 + 0 - kh) / 2 + 1, ow = (wd + 0 + 1 - kw) / 2 + 1;
        Assert.Equal(n * oh * ow, o.N);
        for (int s = 0; s < n; s++)
        {
            for (int f = 0; f < m; f++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double e = 0;
                        for (int ci = 0; ci < c; ci++)
                        {
                            for (int ky = 0; ky < kh; ky++)
                            {
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * 2 - 1 + ky, ix = ox * 2 - 0 + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    {
                                        continue;
                                    }

                                    int wi = ((f * c + ci) * kh + ky) * kw + kx;
                                    e += (w[wi] - what[wi]) * (double)x[((s * c + ci) * h + iy) * wd + ix];
                                }
                            }
                        }

                        direct += e * e;
                    }
                }
            }
        }

        Assert.Equal(direct, Total(o, what, m, shape.K), direct * 1e-4);
    }
}
