using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.PassKit.Tests;

/// <summary>W[M, C/g·k] · im2col patches is exactly the Conv ONNX Runtime computes, in every padding mode.</summary>
public sealed class ConvGeometryTests
{
    [Theory]
    [InlineData("NOTSET", "1,0,0,1", 2, 1, 1, 3, 4, 7, 6, 3, 3)]   // explicit asymmetric pads, stride 2
    [InlineData("NOTSET", "1,1,1,1", 1, 1, 2, 4, 6, 5, 5, 3, 3)]   // two groups
    [InlineData("VALID", "", 1, 1, 1, 2, 3, 6, 7, 3, 2)]
    [InlineData("VALID", "", 2, 2, 1, 2, 3, 9, 8, 3, 3)]           // stride and dilation, no padding
    [InlineData("SAME_UPPER", "", 2, 1, 1, 3, 4, 7, 6, 3, 3)]      // odd total pad: the extra one after
    [InlineData("SAME_LOWER", "", 2, 1, 1, 3, 4, 7, 6, 4, 3)]      // odd total pad: the extra one before
    [InlineData("NOTSET", "2,1,0,2", 1, 2, 1, 2, 2, 6, 6, 3, 3)]  // dilation (ORT refuses it with SAME_*)
    [InlineData("SAME_LOWER", "", 1, 1, 3, 3, 3, 5, 6, 2, 2)]      // depthwise, even kernel
    public void Patches_times_the_weight_matrix_equal_ORTs_conv(string autoPad, string pads, int stride, int dilation, int group, int c, int m, int h, int w, int kh, int kw)
    {
        var attributes = new List<NodeAttribute>
        {
            NodeAttribute.FromInts("strides", stride, stride),
            NodeAttribute.FromInts("dilations", dilation, dilation),
            NodeAttribute.FromInt("group", group),
            NodeAttribute.FromString("auto_pad", autoPad),
        };
        if (pads.Length > 0)
        {
            attributes.Add(NodeAttribute.FromInts("pads", pads.Split(',').Select(long.Parse).ToArray()));
        }

        AssertMatchesOrt(attributes, [2, c, h, w], [m, c / group, kh, kw]);
    }

    [Theory]
    [InlineData("SAME_UPPER", 2, 1)]
    [InlineData("SAME_LOWER", 3, 1)]
    [InlineData("VALID", 1, 2)]
    public void One_dimensional_convs_are_two_dimensional_ones_over_a_height_of_one(string autoPad, int stride, int dilation)
    {
        AssertMatchesOrt(
            [NodeAttribute.FromInts("strides", stride), NodeAttribute.FromInts("dilations", dilation), NodeAttribute.FromString("auto_pad", autoPad)],
            [2, 3, 11], [4, 3, 3]);
    }

    [Fact]
    public void An_unknown_padding_mode_is_refused_with_the_reason()
    {
        Node conv = OrtModels.Node("Conv", ["x", "w"], NodeAttribute.FromString("auto_pad", "SAME"));

        Assert.Null(ConvGeometry.TryFor(conv, [2, 3, 3, 3], [1, 3, 5, 5], out string? why));
        Assert.Contains("'SAME'", why, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ConvGeometry.For(conv, [2, 3, 3, 3], [1, 4, 5, 5])); // channels do not match either
    }

    private static void AssertMatchesOrt(List<NodeAttribute> attributes, long[] inputShape, long[] weightDims)
    {
        int size = (int)inputShape.Aggregate(1L, (a, b) => a * b);
        int weightSize = (int)weightDims.Aggregate(1L, (a, b) => a * b);
        float[] x = OrtModels.Values(size, 1);
        float[] w = OrtModels.Values(weightSize, 2);
        Node conv = OrtModels.Node("Conv", ["x", "w"], [.. attributes]);
        DenseTensor expected = OrtModels.Run(OrtModels.Single(conv, inputShape, TensorValue.FromFloats("w", w, weightDims)), DenseTensor.FromFloats(x, inputShape));

        ConvGeometry g = ConvGeometry.For(conv, weightDims, inputShape);
        long[] outShape = expected.ShapeArray();
        Assert.Equal(g.OutputWidth, outShape[^1]);
        Assert.Equal(inputShape.Length == 4 ? g.OutputHeight : 1, inputShape.Length == 4 ? outShape[2] : 1);
        int m = (int)weightDims[0], perGroup = m / g.Groups, k = g.PatchLength, positions = g.OutputHeight * g.OutputWidth;
        Assert.Equal(k, weightSize / m);
        ReadOnlySpan<float> y = expected.AsSpan<float>();
        var patches = new float[g.Positions * k];
        for (int group = 0; group < g.Groups; group++)
        {
            g.Patches(x, group, 0, (int)g.Positions, patches);
            for (long p = 0; p < g.Positions; p++)
            {
                for (int o = group * perGroup; o < (group + 1) * perGroup; o++)
                {
                    double sum = 0;
                    for (int j = 0; j < k; j++)
                    {
                        sum += (double)w[o * k + j] * patches[p * k + j];
                    }

                    long n = p / positions, rest = p % positions;
                    float actual = y[(int)((n * m + o) * positions + rest)];
                    Assert.True(Math.Abs(sum - actual) < 1e-4, $"group {group}, position {p}, channel {o}: im2col {sum} vs ORT {actual}");
                }
            }
        }
    }
}
