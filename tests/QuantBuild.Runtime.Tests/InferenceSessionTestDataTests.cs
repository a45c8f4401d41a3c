using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

/// <summary>ONNX's own node-test models, run with inputs we make and checked against plain C#.</summary>
public sealed class InferenceSessionTestDataTests
{
    [Fact]
    public void Gemm_without_bias_matches_the_reference_product()
    {
        using var session = new InferenceSession(TestData.NodeModel("test_gemm_default_no_bias"));
        float[] a = Reference.Values(2 * 10, seed: 1);
        float[] b = Reference.Values(10 * 3, seed: 2);

        var outputs = session.Run(new Dictionary<string, DenseTensor>
        {
            ["a"] = DenseTensor.FromFloats(a, 2, 10),
            ["b"] = DenseTensor.FromFloats(b, 10, 3),
        });

        DenseTensor y = Assert.Single(outputs).Value;
        Assert.Equal(new long[] { 2, 3 }, y.ShapeArray());
        Reference.AssertClose(Reference.Gemm(a, b, null, 2, 10, 3), y.AsSpan<float>(), 1e-5f);
    }

    [Fact]
    public void Relu_zeroes_negatives_and_keeps_positives()
    {
        using var session = new InferenceSession(TestData.NodeModel("test_relu"));
        float[] x = Reference.Values(3 * 4 * 5, seed: 3);

        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x, 3, 4, 5) });

        Assert.Equal(Reference.Relu(x), outputs["y"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void Conv_with_strides_and_padding_matches_the_reference_convolution()
    {
        using var session = new InferenceSession(TestData.NodeModel("test_conv_with_strides_padding"));
        float[] x = Reference.Values(1 * 1 * 7 * 5, seed: 4);
        float[] w = Reference.Values(1 * 1 * 3 * 3, seed: 5);

        var outputs = session.Run(new Dictionary<string, DenseTensor>
        {
            ["x"] = DenseTensor.FromFloats(x, 1, 1, 7, 5),
            ["W"] = DenseTensor.FromFloats(w, 1, 1, 3, 3),
        });

        float[] expected = Reference.Conv2d(x, 1, 1, 7, 5, w, 1, 3, 3, null, stride: 2, pad: 1, out int oh, out int ow);
        DenseTensor y = outputs["y"];
        Assert.Equal(new long[] { 1, 1, oh, ow }, y.ShapeArray());
        Reference.AssertClose(expected, y.AsSpan<float>(), 1e-5f);
    }

    [Fact]
    public void MatMul_2d_matches_the_reference_product_from_an_in_memory_model()
    {
        using var session = new InferenceSession(File.ReadAllBytes(TestData.NodeModel("test_matmul_2d")));
        float[] a = Reference.Values(3 * 4, seed: 6);
        float[] b = Reference.Values(4 * 3, seed: 7);

        var outputs = session.Run(new Dictionary<string, DenseTensor>
        {
            ["a"] = DenseTensor.FromFloats(a, 3, 4),
            ["b"] = DenseTensor.FromFloats(b, 4, 3),
        });

        Reference.AssertClose(Reference.Gemm(a, b, null, 3, 4, 3), outputs["c"].AsSpan<float>(), 1e-5f);
    }
}
