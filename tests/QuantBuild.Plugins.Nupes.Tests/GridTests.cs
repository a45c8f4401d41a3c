namespace QuantBuild.Plugins.Nupes.Tests;

public class GridTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void ExponentOneIsUniformRoundToNearest(int bits)
    {
        float[] w = TestData.Weights(4096, bits);
        var m = new LayerMatrix(w, 16, 256, 0);
        LayerQuantization q = LayerQuantizer.Quantize(m, bits, 1.0, WeightError.Instance);
        int qMax = NupesGrid.QMax(bits);
        for (int c = 0; c < 16; c++)
        {
            float s = m.Scales[c];
            for (int r = 0; r < 256; r++)
            {
                float x = w[c * 256 + r];
                int expected = (int)Math.Clamp(Math.Round(x / (double)s * qMax, MidpointRounding.AwayFromZero), -qMax, qMax);
                Assert.Equal(expected + qMax, q.Codes[c * 256 + r]);
                // the uniform grid step s/qmax, to float rounding
                Assert.Equal(expected * (double)s / qMax, q.Decoded[c * 256 + r], 1e-6 * s);
            }
        }
    }

    [Theory]
    [InlineData(2, 0.3)]
    [InlineData(3, 0.5)]
    [InlineData(4, 0.7)]
    [InlineData(4, 1.0)]
    [InlineData(6, 1.2)]
    [InlineData(8, 0.4)]
    public void GridIsMonotoneSymmetricAndSpansTheScale(int bits, double a)
    {
        float[] lut = NupesGrid.Lut(bits, a);
        int qMax = NupesGrid.QMax(bits);
        Assert.Equal(1 << bits, lut.Length);
        for (int i = 1; i <= 2 * qMax; i++)
        {
            Assert.True(lut[i] > lut[i - 1], $"lut[{i}] = {lut[i]} not above lut[{i - 1}] = {lut[i - 1]}");
        }

        for (int q = 0; q <= qMax; q++)
        {
            Assert.Equal(-lut[qMax + q], lut[qMax - q]);
        }

        Assert.Equal(0f, lut[qMax]);
        Assert.Equal(1f, lut[2 * qMax]);
        Assert.Equal(0f, lut[^1]); // the spare code
        if (a < 1 && qMax > 1)
        {
            // dense near zero: the first step is smaller than the last
            Assert.True(lut[qMax + 1] - lut[qMax] < lut[2 * qMax] - lut[2 * qMax - 1]);
        }
    }

    [Theory]
    [InlineData(2, 0.5, 0)]
    [InlineData(3, 0.8, 32)]
    [InlineData(5, 0.6, 24)]
    [InlineData(8, 1.1, 0)]
    public void CodesStayInRangeAndDecodeOnTheGrid(int bits, double a, int groupSize)
    {
        float[] w = TestData.Weights(8 * 100, 7);
        w[5] = 10f; // an outlier sets its group's scale
        var m = new LayerMatrix(w, 8, 100, groupSize);
        LayerQuantization q = LayerQuantizer.Quantize(m, bits, a, WeightError.Instance);
        int qMax = NupesGrid.QMax(bits);
        Assert.All(q.Codes, code => Assert.InRange(code, 0, 2 * qMax));
        for (int c = 0; c < 8; c++)
        {
            for (int r = 0; r < 100; r++)
            {
                float s = m.Scale(c, r);
                float decoded = q.Decoded[c * 100 + r];
                Assert.Equal(q.Lut[q.Codes[c * m.PaddedLength + r]] * s, decoded);
                Assert.True(Math.Abs(decoded) <= s);
                Assert.True(Math.Sign(decoded) == 0 || Math.Sign(decoded) == Math.Sign(w[c * 100 + r]));
            }
        }

        Assert.Equal(10f, q.Decoded[5]); // abs-max is exactly on the grid
    }

    [Fact]
    public void WeightsOnTheGridComeBackExactly()
    {
        float[] lut = NupesGrid.Lut(4, 0.6);
        for (int index = 0; index <= 14; index++)
        {
            int q = NupesGrid.Quantize(lut[index] * 2f, 2f, 0.6, 7);
            Assert.Equal(index, q + 7);
        }
    }

    [Fact]
    public void GroupsTakeTheirOwnAbsMaxAndPadTheLastGroup()
    {
        float[] w = Enumerable.Range(0, 2 * 10).Select(i => (float)(i % 10) - 4.5f).ToArray();
        var m = new LayerMatrix(w, 2, 10, 4);
        Assert.Equal(3, m.Groups);
        Assert.Equal(12, m.PaddedLength);
        Assert.Equal(new[] { 4.5f, 2.5f, 4.5f, 4.5f, 2.5f, 4.5f }, m.Scales);
    }
}
