using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

public sealed class InferenceSessionMetadataTests
{
    private static byte[] Model() => new ModelBuilder()
        .Input("pixels", ElementType.Float, "batch", 3, null)
        .Input("mask", ElementType.Bool, "batch", 3, null)
        .Initializer("two", ElementType.Float, [2f], 1)
        .Output("scaled", ElementType.Float, "batch", 3, null)
        .Output("shape", ElementType.Int64, 3)
        .Output("kept", ElementType.Float, "batch", 3, null)
        .Node("Mul", ["pixels", "two"], ["scaled"])
        .Node("Shape", ["pixels"], ["shape"])
        .Node("Where", ["mask", "pixels", "scaled"], ["kept"])
        .ToBytes();

    [Fact]
    public void Inputs_are_listed_in_model_order_with_element_types_and_without_initializers()
    {
        using var session = new InferenceSession(Model());

        Assert.Equal(["pixels", "mask"], session.InputMetadata.Keys);
        Assert.Equal(ElementType.Float, session.InputMetadata["pixels"].ElementType);
        Assert.Equal(ElementType.Bool, session.InputMetadata["mask"].ElementType);
        Assert.True(session.InputMetadata["pixels"].IsTensor);
    }

    [Fact]
    public void Symbolic_dimensions_are_named_and_unknown_ones_are_minus_one()
    {
        using var session = new InferenceSession(Model());
        NodeMetadata pixels = session.InputMetadata["pixels"];

        Assert.Equal([-1L, 3L, -1L], pixels.Dimensions);
        Assert.Equal(["batch", "", ""], pixels.SymbolicDimensions);
        Assert.Equal("float[batch,3,?]", pixels.ToString());
    }

    [Fact]
    public void Outputs_are_listed_in_model_order_with_their_element_types_and_shapes()
    {
        using var session = new InferenceSession(Model());

        Assert.Equal(["scaled", "shape", "kept"], session.OutputMetadata.Keys);
        Assert.Equal(ElementType.Int64, session.OutputMetadata["shape"].ElementType);
        Assert.Equal([3L], session.OutputMetadata["shape"].Dimensions);
        Assert.Equal(["batch", "", ""], session.OutputMetadata["kept"].SymbolicDimensions);
    }

    [Fact]
    public void Running_all_outputs_follows_the_metadata_order_and_fills_symbolic_dims()
    {
        using var session = new InferenceSession(Model());
        float[] pixels = Reference.Values(2 * 3 * 5, seed: 41);
        var mask = new byte[2 * 3 * 5];
        mask[0] = 1;

        var outputs = session.Run(new Dictionary<string, DenseTensor>
        {
            ["pixels"] = DenseTensor.FromFloats(pixels, 2, 3, 5),
            ["mask"] = new DenseTensor(ElementType.Bool, [2, 3, 5], mask),
        });

        Assert.Equal(session.OutputMetadata.Keys, outputs.Keys);
        Assert.Equal([2L, 3L, 5L], outputs["shape"].AsSpan<long>().ToArray());
        Assert.Equal(pixels[0], outputs["kept"].AsSpan<float>()[0]);
        Assert.Equal(pixels[1] * 2, outputs["kept"].AsSpan<float>()[1]);
    }
}
