using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>
/// The GPTQ solver: the codes of the paper's unblocked algorithm (explicit H⁻¹, its upper Cholesky factor, one input
/// at a time), never worse than round-to-nearest, the same bytes at any thread count, and what happens when H does
/// not factor.
/// </summary>
public sealed class GptqTests
{
    private static LayerObjective Layer(int seed, int n, int k, int rows, bool centered = false, float deltaScale = 0f)
    {
        var rng = new Random(seed);
        float[] x = TestData.CorrelatedRelu(rng, n, k);
        float[] w = TestData.Gaussian(rng, (long)rows * k, 0.1f);
        var m = new Moments(k, 1, deltaScale > 0);
        float[]? delta = deltaScale > 0 ? TestData.Gaussian(rng, (long)n * k, deltaScale) : null;
        m.Add(0, x, delta, n);
        return LayerObjective.Build(m, w, rows, centered);
    }

    private static OptimizerSettings Gptq(bool actOrder = true, bool scaleSearch = true) =>
        new() { Mode = AdaQuantMode.Adaround, Solver = AdaQuantSolver.Gptq, ActOrder = actOrder, ScaleSearch = scaleSearch };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlockedLazyPassGivesTheCodesOfThePapersUnblockedAlgorithm(bool actOrder)
    {
        // 300 inputs: three blocks of 128, so the lazy updates between blocks are exercised.
        LayerObjective o = Layer(5, 900, 300, 6);
        var grid = Grid.Signed(4, o.K);
        float[] scales = RoundingOptimizer.AbsMaxScales(o.W, o.Rows, o.K, grid);
        var codes = new int[o.Rows * o.K];
        GptqFactor f = GptqFactor.Create(o.A[0], o.K, 0.01, actOrder, "test");
        GptqSolver.Sweep(o, grid, scales, f, 0, o.Rows, codes);
        int[] reference = Reference(o, grid, scales, 0.01, actOrder);
        Assert.Equal(reference, codes);
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    public void GptqBeatsRoundToNearestOnACorrelatedLayerAndReportsTheRealError(int seed, bool centered)
    {
        LayerObjective o = Layer(seed, 1024, 160, 24, centered);
        var grid = Grid.Signed(4, o.K);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Gptq());
        Assert.Equal("gptq", s.Solver);
        Assert.True(s.Loss.Sum() < 0.7 * s.NearestLoss.Sum(), $"gptq {s.Loss.Sum():G4} vs nearest {s.NearestLoss.Sum():G4}");
        for (int r = 0; r < o.Rows; r++)
        {
            Assert.True(s.Loss[r] <= s.NearestLoss[r] * (1 + 1e-6), $"row {r}: {s.Loss[r]} > nearest {s.NearestLoss[r]}");
            // The reported loss is the objective of the codes it returns.
            var what = new float[o.K];
            RoundingOptimizer.Dequantize(s.Codes, s.Scales, r, o.K, grid, what);
            Assert.Equal(o.Loss(r, what), s.Loss[r], Math.Abs(s.Loss[r]) * 1e-4 + 1e-9);
        }

        Assert.All(s.Codes, c => Assert.InRange(c, grid.QMin, grid.QMax));
    }

    [Fact]
    public void GptqHoldsInSequentialModeWhereTheInputsDifferFromFp32()
    {
        LayerObjective o = Layer(21, 800, 96, 16, centered: true, deltaScale: 0.05f);
        var grid = Grid.Signed(3, o.K);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Gptq());
        LayerSolution start = RoundingOptimizer.Solve(o, grid, Gptq() with { Solver = AdaQuantSolver.Gradient, Iterations = 0 });
        Assert.True(s.Loss.Sum() < 0.8 * start.Loss.Sum(), $"gptq {s.Loss.Sum():G4} vs start {start.Loss.Sum():G4}");
        Assert.True(s.Improved > o.Rows / 2);
    }

    [Fact]
    public void SameInputsGiveTheSameCodesOnOneThreadAndOnMany()
    {
        LayerSolution Run(int threads)
        {
            LayerObjective o = Layer(31, 600, 200, 70, centered: true);
            var scheduler = new System.Threading.Tasks.ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, threads).ConcurrentScheduler;
            return Task.Factory.StartNew(() => RoundingOptimizer.Solve(o, Grid.Signed(4, o.K, blockSize: 32), Gptq()),
                CancellationToken.None, TaskCreationOptions.None, scheduler).GetAwaiter().GetResult();
        }

        LayerSolution one = Run(1), many = Run(Environment.ProcessorCount * 2), again = Run(Environment.ProcessorCount * 2);
        Assert.Equal(one.Codes, many.Codes);
        Assert.Equal(one.Scales, many.Scales);
        Assert.Equal(one.BiasDelta, many.BiasDelta);
        Assert.Equal(one.Loss, many.Loss);
        Assert.Equal(many.Codes, again.Codes);
    }

    [Fact]
    public void AnIndefiniteHRaisesTheDampingUntilItFactors()
    {
        // Eigenvalues −2 and 4 (mean diagonal 1): 0.01, 0.1 and 1 × the mean leave it indefinite, 10 × makes it positive definite.
        float[] h = [1f, 3f, 3f, 1f];
        GptqFactor f = GptqFactor.Create(h, 2, 0.01, actOrder: false, "test");
        Assert.Equal(10, f.Damping, 1e-9);
    }

    [Fact]
    public void AnHThatNoDampingFactorsIsQB2304()
    {
        float[] h = [1f, float.NaN, float.NaN, 1f];
        var e = Assert.Throws<QuantBuildException>(() => GptqFactor.Create(h, 2, 0.01, actOrder: true, "proj"));
        Assert.Equal("QB2304", e.Code);
        Assert.Contains("proj", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeadInputsQuantizeToZeroAndTheRestStillFactors()
    {
        LayerObjective o = Layer(41, 400, 40, 8);
        // Input 7 never fires: its row and column of H are zero.
        for (int j = 0; j < o.K; j++)
        {
            o.A[0][7 * o.K + j] = 0f;
            o.A[0][j * o.K + 7] = 0f;
        }

        var grid = Grid.Signed(4, o.K);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Gptq(scaleSearch: false));
        Assert.True(s.Improved > 0);
        for (int r = 0; r < o.Rows; r++)
        {
            if (s.Loss[r] < s.NearestLoss[r])
            {
                Assert.Equal(0, s.Codes[r * o.K + 7]);
            }
        }
    }

    // The paper's algorithm, unblocked, in double: H + λI → H⁻¹ → upper Cholesky U; per input, quantize the current
    // weight and subtract (w − q)/U_jj · U_j,· from the inputs after it.
    private static int[] Reference(LayerObjective o, Grid grid, float[] scales, double damping, bool actOrder)
    {
        int k = o.K;
        float[] a = o.A[0];
        bool[] dead = Enumerable.Range(0, k).Select(j => !(a[j * k + j] > 0)).ToArray();
        double mean = Enumerable.Range(0, k).Where(j => !dead[j]).Average(j => (double)a[j * k + j]);
        int[] order = Enumerable.Range(0, k).ToArray();
        if (actOrder)
        {
            order = order.OrderByDescending(j => dead[j] ? double.NegativeInfinity : a[j * k + j]).ThenBy(j => j).ToArray();
        }

        var h = new double[k, k];
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q < k; q++)
            {
                int i = order[p], j = order[q];
                h[p, q] = dead[i] || dead[j] ? (i == j ? 1 : 0) : a[i * k + j];
            }

            h[p, p] += damping * mean;
        }

        double[,] inv = Inverse(h, k);
        // Upper U with inv = UᵀU: U = Lᵀ for the lower Cholesky factor L of inv.
        var l = new double[k, k];
        for (int j = 0; j < k; j++)
        {
            double s = inv[j, j];
            for (int p = 0; p < j; p++)
            {
                s -= l[j, p] * l[j, p];
            }

            l[j, j] = Math.Sqrt(s);
            for (int i = j + 1; i < k; i++)
            {
                double t = inv[i, j];
                for (int p = 0; p < j; p++)
                {
                    t -= l[i, p] * l[j, p];
                }

                l[i, j] = t / l[j, j];
            }
        }

        var codes = new int[o.Rows * k];
        for (int r = 0; r < o.Rows; r++)
        {
            double[] w = order.Select(j => dead[j] ? 0.0 : o.W[r * k + j]).ToArray();
            for (int p = 0; p < k; p++)
            {
                double s = scales[r];
                int q = (int)Math.Clamp(Math.Round(w[p] / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
                codes[r * k + order[p]] = q;
                double err = (w[p] - q * s) / l[p, p];
                for (int c = p + 1; c < k; c++)
                {
                    w[c] -= err * l[c, p];
                }
            }
        }

        return codes;
    }

    private static double[,] Inverse(double[,] m, int k)
    {
        var a = (double[,])m.Clone();
        var inv = new double[k, k];
        for (int i = 0; i < k; i++)
        {
            inv[i, i] = 1;
        }

        for (int c = 0; c < k; c++)
        {
            double pivot = a[c, c];
            for (int j = 0; j < k; j++)
            {
                a[c, j] /= pivot;
                inv[c, j] /= pivot;
            }

            for (int r = 0; r < k; r++)
            {
                if (r != c && a[r, c] != 0)
                {
                    double f = a[r, c];
                    for (int j = 0; j < k; j++)
                    {
                        a[r, j] -= f * a[c, j];
                        inv[r, j] -= f * inv[c, j];
                    }
                }
            }
        }

        return inv;
    }
}
