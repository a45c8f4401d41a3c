using QuantBuild.Abstractions.Ir;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.Nupes.Tests;

public class SearchTests
{
    private static readonly ExponentRange Range = new() { Min = 0.25, Max = 1.25, Steps = 11 };

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void SearchIsNeverWorseThanUniformOnTheWeightError(int bits)
    {
        var m = new LayerMatrix(TestData.Weights(32 * 144, bits), 32, 144, 0);
        double uniform = LayerQuantizer.Quantize(m, bits, 1.0, WeightError.Instance).Error;
        var trials = new List<(double, double, double)>();
        LayerQuantization best = LayerQuantizer.Search(m, bits, Range, WeightError.Instance, trials);
        Assert.True(best.Error <= uniform);
        Assert.Equal(trials.Min(t => t.Item2), best.Error);
        Assert.Contains(trials, t => t.Item1 == 1.0);
        if (bits is 3 or 4)
        {
            // Laplace weights under an abs-max scale: the dense-near-zero grid wins clearly at low bits
            Assert.True(best.Exponent < 1.0);
            Assert.True(best.Error < 0.9 * uniform, $"{best.Error} vs uniform {uniform}");
        }
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(4, 16)]
    public void SearchAndCodeOptimisationAreNeverWorseThanUniformOnTheOutputError(int bits, int groupSize)
    {
        const int length = 48;
        var m = new LayerMatrix(TestData.Weights(24 * length, 11), 24, length, groupSize);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(500, length, 3), length), length);
        double uniform = LayerQuantizer.Quantize(m, bits, 1.0, objective).Error;
        LayerQuantization searched = LayerQuantizer.Search(m, bits, Range, objective);
        LayerQuantization optimised = LayerQuantizer.OptimizeCodes(m, searched, objective);
        Assert.True(searched.Error <= uniform);
        Assert.True(optimised.Error <= searched.Error);
        Assert.True(optimised.Error < 0.8 * uniform, $"{optimised.Error} vs uniform {uniform}");
        Assert.All(optimised.Codes, c => Assert.InRange(c, 0, 2 * NupesGrid.QMax(bits)));
        // the codes still decode to what the result says
        for (int c = 0; c < 24; c++)
        {
            for (int r = 0; r < length; r++)
            {
                Assert.Equal(NupesGrid.Decode(optimised.Codes[c * m.PaddedLength + r], optimised.Lut, m.Scale(c, r)), optimised.Decoded[c * length + r]);
            }
        }
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(4, 16)]
    public void BudgetedSearchTakesTheBestExponentWithinTheWeightErrorBudget(int bits, int groupSize)
    {
        const int length = 48;
        var m = new LayerMatrix(TestData.Weights(24 * length, 7), 24, length, groupSize);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(500, length, 5), length), length);
        var freeTrials = new List<(double Exponent, double Error, double WeightSquaredError)>();
        LayerQuantization free = LayerQuantizer.Search(m, bits, Range, objective, freeTrials);
        double leastWeightError = freeTrials.Min(t => t.WeightSquaredError);
        // the output error's favourite exponent reconstructs the weights worse than the best one for the weights:
        // a budget between the two has to move the choice
        Assert.True(free.WeightSquaredError > leastWeightError, $"{free.WeightSquaredError} vs {leastWeightError}");
        double budget = (free.WeightSquaredError + leastWeightError) / 2;

        var trials = new List<(double Exponent, double Error, double WeightSquaredError)>();
        LayerQuantization best = LayerQuantizer.Search(m, bits, Range, objective, trials, budget);

        Assert.True(best.WeightSquaredError <= budget, $"{best.WeightSquaredError} vs budget {budget}");
        Assert.Equal(trials.Where(t => t.WeightSquaredError <= budget).Min(t => t.Error), best.Error);
        Assert.Equal(LayerQuantizer.Score(m, best.Decoded, WeightError.Instance), best.WeightSquaredError);
        Assert.True(best.Error > free.Error, $"budgeted {best.Error} vs unbudgeted {free.Error}");
    }

    [Fact]
    public void AnUnreachableBudgetFallsBackToTheLeastWeightError()
    {
        var m = new LayerMatrix(TestData.Weights(16 * 40, 3), 16, 40, 0);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(200, 40, 8), 40), 40);
        var trials = new List<(double Exponent, double Error, double WeightSquaredError)>();
        LayerQuantization best = LayerQuantizer.Search(m, 4, Range, objective, trials, weightBudget: 0);
        Assert.Equal(trials.Min(t => t.WeightSquaredError), best.WeightSquaredError);
        Assert.True(best.WeightSquaredError > 0);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(4, 16)]
    public void CodeOptimisationWithinABudgetStaysUnderItAndStillLowersTheOutputError(int bits, int groupSize)
    {
        const int length = 48;
        var m = new LayerMatrix(TestData.Weights(24 * length, 13), 24, length, groupSize);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(500, length, 4), length), length);
        LayerQuantization uniform = LayerQuantizer.Quantize(m, bits, 1.0, objective);
        double budget = 0.95 * uniform.WeightSquaredError;
        LayerQuantization searched = LayerQuantizer.Search(m, bits, Range, objective, weightBudget: budget);
        LayerQuantization unbounded = LayerQuantizer.OptimizeCodes(m, searched, objective);
        LayerQuantization bounded = LayerQuantizer.OptimizeCodesWithinBudget(m, searched, objective, budget, out double ridge);

        // the unbounded optimum trades weight error for output error past the budget, so the ridge had to act
        Assert.True(unbounded.WeightSquaredError > budget, $"{unbounded.WeightSquaredError} vs {budget}");
        Assert.True(ridge > 0 && double.IsFinite(ridge), $"ridge {ridge}");
        Assert.True(bounded.WeightSquaredError <= budget, $"{bounded.WeightSquaredError} vs {budget}");
        Assert.Equal(LayerQuantizer.Score(m, bounded.Decoded, WeightError.Instance), bounded.WeightSquaredError);
        Assert.Equal(LayerQuantizer.Score(m, bounded.Decoded, objective), bounded.Error);
        Assert.True(bounded.Error < 0.9 * searched.Error, $"{bounded.Error} vs searched {searched.Error}");
        for (int i = 0; i < m.Values.Length; i++)
        {
            int c = i / length, r = i % length;
            Assert.Equal(NupesGrid.Decode(bounded.Codes[c * m.PaddedLength + r], bounded.Lut, m.Scale(c, r)), bounded.Decoded[i]);
        }
    }

    [Fact]
    public void ALooseBudgetLeavesTheUnboundedOptimum()
    {
        const int length = 32;
        var m = new LayerMatrix(TestData.Weights(8 * length, 21), 8, length, 0);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(300, length, 6), length), length);
        LayerQuantization searched = LayerQuantizer.Search(m, 4, Range, objective);
        LayerQuantization unbounded = LayerQuantizer.OptimizeCodes(m, searched, objective);
        LayerQuantization bounded = LayerQuantizer.OptimizeCodesWithinBudget(m, searched, objective, unbounded.WeightSquaredError, out double ridge);
        Assert.Equal(0, ridge);
        Assert.Equal(unbounded.Codes, bounded.Codes);
    }

    [Fact]
    public void RidgeAddsTheWeightErrorToTheOutputError()
    {
        const int length = 20;
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(100, length, 2), length), length);
        float[] d = TestData.Weights(length, 17);
        double plain = objective.RowError(0, d);
        double squared = d.Sum(v => (double)v * v);
        Assert.Equal(plain + 0.5 * squared, objective.WithRidge(0.5).RowError(0, d), 6);
        Assert.Same(objective.H, objective.WithRidge(0.5).H);
        Assert.Equal(Enumerable.Range(0, length).Average(i => (double)objective.H[i * length + i]), objective.MeanDiagonal, 9);
    }

    [Fact]
    public void DataFreeCodeOptimisationIsNearestValue()
    {
        var m = new LayerMatrix(TestData.Weights(16 * 64, 5), 16, 64, 0);
        LayerQuantization start = LayerQuantizer.Quantize(m, 3, 0.5, WeightError.Instance);
        LayerQuantization nearest = LayerQuantizer.OptimizeCodes(m, start, WeightError.Instance);
        Assert.True(nearest.Error <= start.Error);
        for (int i = 0; i < m.Values.Length; i++)
        {
            float s = m.Scale(i / 64, i % 64);
            float best = Enumerable.Range(0, 7).Select(k => NupesGrid.Decode(k, nearest.Lut, s)).MinBy(v => Math.Abs(v - m.Values[i]));
            Assert.Equal(Math.Abs(best - m.Values[i]), Math.Abs(nearest.Decoded[i] - m.Values[i]));
        }
    }

    [Fact]
    public void OutputErrorEqualsTheErrorOfTheLayersOutputs()
    {
        const int length = 20, rows = 300;
        float[] x = TestData.Inputs(rows, length, 9);
        var objective = new OutputError(Hessian.FromRows(x, length), length);
        float[] d = TestData.Weights(length, 2);
        double direct = 0;
        for (int n = 0; n < rows; n++)
        {
            double y = 0;
            for (int i = 0; i < length; i++)
            {
                y += x[n * length + i] * (double)d[i];
            }

            direct += y * y;
        }

        Assert.Equal(direct / rows, objective.RowError(0, d), direct / rows * 1e-4);
    }

    [Fact]
    public void ConvHessianMatchesExplicitPatches()
    {
        // 1 sample, 2 channels, 4×4, 3×3 kernel, pad 1, stride 2
        float[] x = TestData.Inputs(1, 32, 4);
        var conv = new Node { OpType = "Conv" };
        conv.Attributes.Add(NodeAttribute.FromInts("strides", 2, 2));
        conv.Attributes.Add(NodeAttribute.FromInts("pads", 1, 1, 1, 1));
        float[] h = Hessian.FromConv(x, ConvGeometry.For(conv, [1, 2, 3, 3], [1, 2, 4, 4]));
        var patches = new List<float[]>();
        for (int oy = 0; oy < 2; oy++)
        {
            for (int ox = 0; ox < 2; ox++)
            {
                var p = new float[18];
                for (int c = 0; c < 2; c++)
                {
                    for (int ky = 0; ky < 3; ky++)
                    {
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                            p[(c * 3 + ky) * 3 + kx] = iy is >= 0 and < 4 && ix is >= 0 and < 4 ? x[(c * 4 + iy) * 4 + ix] : 0;
                        }
                    }
                }

                patches.Add(p);
            }
        }

        for (int i = 0; i < 18; i++)
        {
            for (int j = 0; j < 18; j++)
            {
                double expected = patches.Sum(p => (double)p[i] * p[j]) / patches.Count;
                Assert.Equal(expected, h[i * 18 + j], 1e-4);
            }
        }
    }
}
