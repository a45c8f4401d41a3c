namespace QuantBuild.Plugins.Nupes.Tests;

/// <summary>
/// What lets NUPES code 4096-wide layers in seconds: the tiled score and descent compute what the row-by-row ones did,
/// the descent's tracked errors are the scored ones, and the sampled search of a large layer keeps the weight-error
/// bound on the whole layer and beats uniform there (run here on a small layer with the size limits lowered).
/// </summary>
public class ScaleTests
{
    private static readonly ExponentRange Range = new() { Min = 0.25, Max = 1.25, Steps = 11 };

    [Fact]
    public void TiledScoreIsTheSumOfTheRowErrorsBitForBit()
    {
        const int length = 40, channels = 37; // more than one tile of 32, and a partial one
        var m = new LayerMatrix(TestData.Weights(channels * length, 4), channels, length, 0);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(200, length, 7), length), length, ridge: 0.01);
        LayerQuantization q = LayerQuantizer.Code(m, 4, 0.7);
        double expected = 0;
        var diff = new float[length];
        for (int c = 0; c < channels; c++)
        {
            for (int r = 0; r < length; r++)
            {
                diff[r] = m.Values[c * length + r] - q.Decoded[c * length + r];
            }

            expected += objective.RowError(c, diff);
        }

        Assert.Equal(expected, LayerQuantizer.Score(m, q.Decoded, objective));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void TheDescentsTrackedErrorsAreTheScoredOnes(double ridge)
    {
        const int length = 48, channels = 20;
        var m = new LayerMatrix(TestData.Weights(channels * length, 9), channels, length, 16);
        var plain = new OutputError(Hessian.FromRows(TestData.Inputs(300, length, 2), length), length);
        OutputError objective = plain.WithRidge(ridge * plain.MeanDiagonal);
        LayerQuantization start = LayerQuantizer.Code(m, 3, 0.6);
        int[] codes = (int[])start.Codes.Clone();
        float[] decoded = (float[])start.Decoded.Clone();
        CodeDescent.Errors tracked = CodeDescent.Run(m, start.Lut, 3, objective, 4, codes, decoded);
        Assert.Equal(LayerQuantizer.Score(m, start.Decoded, objective), tracked.Start.Sum(), 1e-6 * tracked.Start.Sum());
        Assert.Equal(LayerQuantizer.Score(m, start.Decoded, plain), tracked.StartPlain.Sum(), 1e-6 * tracked.StartPlain.Sum());
        Assert.Equal(LayerQuantizer.Score(m, decoded, objective), tracked.End.Sum(), 1e-6 * tracked.End.Sum());
        Assert.Equal(LayerQuantizer.Score(m, decoded, plain), tracked.EndPlain.Sum(), 1e-6 * tracked.EndPlain.Sum());
        Assert.True(tracked.End.Sum() < 0.9 * tracked.Start.Sum(), $"{tracked.End.Sum()} vs start {tracked.Start.Sum()}");

        // Reusing the start's H·d gives the same descent.
        int[] again = (int[])start.Codes.Clone();
        CodeDescent.Run(m, start.Lut, 3, objective, 4, again, (float[])start.Decoded.Clone(), CodeDescent.StartProducts(m, plain, start.Decoded));
        Assert.Equal(codes, again);
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(4, 16)]
    [InlineData(3, 0)]
    public void SampledSearchOfALargeLayerKeepsTheBoundOnTheWholeLayerAndBeatsUniform(int bits, int groupSize)
    {
        const int length = 48, channels = 256;
        var m = new LayerMatrix(TestData.Weights(channels * length, 12), channels, length, groupSize);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(500, length, 3), length), length);
        var options = new NupesOptions { Bits = bits, GroupSize = groupSize, Exponent = Range };
        const double ratio = 0.95;

        // "Large" from 0 multiply-adds, 64 sampled channels (the minimum).
        LayerCodingResult sampled = LayerCoder.Code(m, objective, options, ratio, largeAbove: 0, searchLimit: 0);
        LayerQuantization uniform = LayerQuantizer.Quantize(m, bits, 1.0, objective);
        Assert.Equal(LayerCoder.MinSampledChannels, sampled.SampledChannels);
        Assert.True(sampled.Best.WeightSquaredError <= ratio * uniform.WeightSquaredError, $"{sampled.Best.WeightSquaredError} vs bound {ratio * uniform.WeightSquaredError}");
        double scored = LayerQuantizer.Score(m, sampled.Best.Decoded, objective);
        Assert.Equal(scored, sampled.Best.Error, 1e-6 * scored);
        Assert.True(scored < 0.8 * uniform.Error, $"{scored} vs uniform {uniform.Error}");

        // The whole-layer search does at least as well on its objective, and the sample is not far behind it.
        LayerCodingResult exact = LayerCoder.Code(m, objective, options, ratio);
        Assert.Equal(channels, exact.SampledChannels);
        Assert.True(scored < 1.25 * exact.Best.Error, $"sampled {scored} vs exact {exact.Best.Error}");
        for (int i = 0; i < m.Values.Length; i++)
        {
            int c = i / length, r = i % length;
            Assert.Equal(NupesGrid.Decode(sampled.Best.Codes[c * m.PaddedLength + r], sampled.Best.Lut, m.Scale(c, r)), sampled.Best.Decoded[i]);
        }
    }

    [Fact]
    public void TheSampledPathGivesTheSameCodesOnEveryRun()
    {
        const int length = 40, channels = 300; // tiles of 16 and 32 with partial ones, several threads
        var m = new LayerMatrix(TestData.Weights(channels * length, 31), channels, length, 0);
        var objective = new OutputError(Hessian.FromRows(TestData.Inputs(400, length, 8), length), length);
        var options = new NupesOptions { Bits = 4, Exponent = Range };
        LayerCodingResult first = LayerCoder.Code(m, objective, options, 0.95, largeAbove: 0, searchLimit: 0);
        LayerCodingResult second = LayerCoder.Code(m, objective, options, 0.95, largeAbove: 0, searchLimit: 0);
        Assert.Equal(first.Best.Codes, second.Best.Codes);
        Assert.Equal(first.Best.Exponent, second.Best.Exponent);
        Assert.Equal(first.Best.Error, second.Best.Error);
    }

    [Fact]
    public void WideInputsKeepFewerRowsForHButNeverUnderTwicePerInput()
    {
        Assert.Equal(Hessian.MaxRows, Hessian.RowCap(64));
        Assert.Equal(Hessian.MaxRows, Hessian.RowCap(1024));
        Assert.Equal(8192, Hessian.RowCap(4096));
        Assert.Equal(2 * 11008, Hessian.RowCap(11008));
    }
}
