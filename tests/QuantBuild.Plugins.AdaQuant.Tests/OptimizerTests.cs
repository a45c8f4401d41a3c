namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>AdaRound and AdaQuant on single layers: never worse than round-to-nearest, in range, deterministic, on time.</summary>
public sealed class OptimizerTests
{
    private static (LayerObjective Objective, float[] X) Layer(int seed, int n, int k, int rows, bool realistic, bool centered = false)
    {
        var rng = new Random(seed);
        float[] x = realistic ? TestData.CorrelatedRelu(rng, n, k) : TestData.Gaussian(rng, (long)n * k);
        float[] w = TestData.Gaussian(rng, (long)rows * k, 0.1f);
        var m = new Moments(k, 1, false);
        m.Add(0, x, null, n);
        return (LayerObjective.Build(m, w, rows, centered), x);
    }

    private static OptimizerSettings Settings(AdaQuantMode mode, int iterations = 300) =>
        new() { Mode = mode, Iterations = iterations, LearningRate = 0.01 };

    [Theory]
    [InlineData(1, AdaQuantMode.Adaround)]
    [InlineData(2, AdaQuantMode.Adaround)]
    [InlineData(3, AdaQuantMode.Adaround)]
    [InlineData(1, AdaQuantMode.Adaquant)]
    [InlineData(2, AdaQuantMode.Adaquant)]
    public void NeverWorseThanRoundToNearestOnAnyChannel(int seed, AdaQuantMode mode)
    {
        (LayerObjective o, _) = Layer(seed, 150, 20, 8, realistic: seed % 2 == 0);
        var grid = Grid.Signed(4, o.K);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Settings(mode, 200));
        for (int r = 0; r < o.Rows; r++)
        {
            Assert.True(s.Loss[r] <= s.NearestLoss[r] * (1 + 1e-6), $"row {r}: {s.Loss[r]} > nearest {s.NearestLoss[r]}");
        }
    }

    [Fact]
    public void AdaRoundFindsStrictlyBetterRoundingOnARealisticLayer()
    {
        (LayerObjective o, float[] x) = Layer(11, 512, 72, 16, realistic: true);
        var grid = Grid.Signed(4, o.K);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Settings(AdaQuantMode.Adaround, 500) with { ScaleSearch = false });
        double nearest = s.NearestLoss.Sum(), after = s.Loss.Sum();
        Assert.True(after < 0.8 * nearest, $"adaround {after:G4} vs nearest {nearest:G4}");
        // AdaRound only rounds up or down: every code is the floor or the ceiling of w/s.
        for (int r = 0; r < o.Rows; r++)
        {
            for (int j = 0; j < o.K; j++)
            {
                float v = o.W[r * o.K + j] / s.Scales[r];
                int code = s.Codes[r * o.K + j];
                Assert.True(code == (int)MathF.Floor(v) || code == (int)MathF.Ceiling(v) || code == grid.QMin || code == grid.QMax);
            }
        }

        // And the objective's number is the real output error of those codes.
        double direct = TestData.DirectError(x, x, 512, o.K, o.W, TestData.Dequantize(s, o.Rows, o.K, grid), o.Rows);
        Assert.Equal(direct, after, direct * 1e-3);
    }

    [Theory]
    [InlineData(4, AdaQuantMode.Adaround)]
    [InlineData(3, AdaQuantMode.Adaquant)]
    [InlineData(2, AdaQuantMode.Adaquant)]
    [InlineData(8, AdaQuantMode.Adaround)]
    public void CodesStayInTheGrid(int bits, AdaQuantMode mode)
    {
        (LayerObjective o, _) = Layer(5, 100, 24, 6, realistic: true);
        var grid = Grid.Signed(bits, o.K, blockSize: 8);
        LayerSolution s = RoundingOptimizer.Solve(o, grid, Settings(mode, 150) with { LearningRate = 0.1 });
        Assert.All(s.Codes, c => Assert.InRange(c, -(1 << (bits - 1)), (1 << (bits - 1)) - 1));
        Assert.All(s.Scales, v => Assert.True(float.IsFinite(v) && v > 0));
        Assert.Equal(o.Rows * 3, s.Scales.Length);
    }

    [Theory]
    [InlineData(AdaQuantMode.Adaround)]
    [InlineData(AdaQuantMode.Adaquant)]
    public void SameInputsGiveTheSameCodes(AdaQuantMode mode)
    {
        LayerSolution Run()
        {
            (LayerObjective o, _) = Layer(21, 300, 40, 40, realistic: true, centered: true);
            return RoundingOptimizer.Solve(o, Grid.Signed(4, o.K), Settings(mode, 120));
        }

        LayerSolution a = Run(), b = Run();
        Assert.Equal(a.Codes, b.Codes);
        Assert.Equal(a.Scales, b.Scales);
        Assert.Equal(a.BiasDelta, b.BiasDelta);
    }

    [Fact]
    public void TimeBudgetStopsEarlyAndKeepsTheBestSoFar()
    {
        (LayerObjective o, _) = Layer(31, 400, 64, 32, realistic: true);
        var grid = Grid.Signed(4, o.K);
        var settings = Settings(AdaQuantMode.Adaround, 100000) with { Deadline = DateTime.UtcNow.AddSeconds(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LayerSolution s = RoundingOptimizer.Solve(o, grid, settings);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.True(s.StoppedEarly);
        Assert.InRange(s.IterationsRun, 1, 99999);
        Assert.True(s.Loss.Sum() <= s.NearestLoss.Sum());
    }
}
